"""The aiohttp application: one factory, ``create_app(config)``, used by ``noc run`` and the tests.

Long-lived parts (the store now; scheduler, engine and alerting as they arrive) are started and
stopped by ``cleanup_ctx`` entries in dependency order, so shutdown runs them in reverse.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from zoneinfo import ZoneInfo

from aiohttp import web

from incident_runbooks.loader import RunbookSet, load_runbooks
from noc.appkeys import (
    AUTOMATION,
    CONFIG,
    DB_URL,
    ENGINE,
    HUB,
    INGEST,
    METRICS,
    OUTBOX,
    PIPELINE,
    PROBES,
    PROBING_ALLOWED,
    PROBING_ENABLED,
    RUNBOOKS,
    SCHEDULER,
    STORE,
    WATCH,
)
from noc.calls_batch import IngestBatcher
from noc.config import NocConfig
from noc.core.aio import LoopThread, cancel_and_wait, wait_event
from noc.core.logs import get_logger, scrubber
from noc.core.secrets import secret_values
from noc.metrics import Metrics
from noc.metrics.snapshot import MetricsSnapshot
from noc.runtime.automation import StepAutomation
from noc.runtime.events import EventHub
from noc.runtime.traps import TrapIntake
from noc.store import Store, mask_url, resolve_db_url
from noc.web import (
    accounts_api,
    api,
    audit_api,
    calls_api,
    console,
    incidents_api,
    kpi_api,
    maintenance_api,
    openapi,
    registers_api,
    reports_api,
    session_api,
    sla_api,
    transport,
)
from noc.web.auth import POLICY, TOKENS, TokenCache, auth_middleware
from noc.web.errors import error_middleware
from noc.web.routes import add_routes

log = get_logger("noc.app")

WEB_MODULES = (
    api,
    session_api,
    incidents_api,
    maintenance_api,
    sla_api,
    calls_api,
    kpi_api,
    registers_api,
    reports_api,
    audit_api,
    accounts_api,
    openapi,
)
"""Each declares ``ROUTES``: its paths, handlers and permissions, registered by create_app."""

SLA_REFRESH_SECONDS = 60.0  # the SLA gauges on /metrics are at most this old
KPI_REFRESH_SECONDS = 300.0  # the KPI gauges: a month of calls and tickets takes seconds to read
INCIDENT_REFRESH_SECONDS = (
    5.0  # operator actions through the API/CLI reach noc_incidents_open within this
)


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the store, migrate it to head, sync the inventory; close it on shutdown."""
    config = app[CONFIG]
    store = await Store.open(app[DB_URL], migrate=True)
    sync = await store.sync_assets(config)
    log.info(
        "store_ready",
        db=mask_url(app[DB_URL]),
        backend=store.backend,
        assets_added=len(sync.added),
        assets_updated=len(sync.updated),
        assets_retired=len(sync.retired),
    )
    app[STORE] = store
    app[INGEST] = IngestBatcher(store, ZoneInfo(config.site.timezone))
    store.on_append.append(app[HUB].publish)  # the console's live feed
    app[METRICS].store_up.labels(backend=store.backend).set(1)
    try:
        yield
    finally:
        await app[INGEST].close()
        await store.close()
        log.info("store_closed")


async def probe_safety_ctx(app: web.Application) -> AsyncIterator[None]:
    """Refuse to probe the RFC 2544 test range unless a blackhole keeps it on this machine."""
    from probes.safety import ProbeSafetyError, check_probe_safety

    try:
        in_range = check_probe_safety(app[CONFIG].probe_addresses())
        app[PROBING_ALLOWED] = True
        if in_range:
            log.info("test_range_guarded", route="blackhole 198.18.0.0/15")
    except ProbeSafetyError as exc:
        app[PROBING_ALLOWED] = False
        log.error("probing_refused", reason=str(exc))
    yield


async def probes_ctx(app: web.Application) -> AsyncIterator[None]:
    """The service's one client per probe kind (the scheduler's and the runbook steps');
    their sockets and the SNMP engine are closed on shutdown."""
    from probes.probeset import ProbeSet

    probes = ProbeSet()
    app[PROBES] = probes
    try:
        yield
    finally:
        await probes.aclose()


async def watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """Record this run and each check's fresh results: the SLA counts monitored time only.
    Started before the engine and stopped after it, so the run spans every result."""
    from noc.runtime.watch import Watch
    from noc.store.coverage import CoverageRepo

    watch = Watch.for_config(app[CONFIG], CoverageRepo(app[STORE]))
    await watch.start()
    app[WATCH] = watch
    try:
        yield
    finally:
        await watch.stop()


async def engine_ctx(app: web.Application) -> AsyncIterator[None]:
    """The engine (resumed from the store) and the scheduler feeding it probe results."""
    from noc.runtime.engine import Engine
    from noc.runtime.scheduler import Scheduler
    from probes.safety import addresses_in_test_range

    engine = Engine(app[CONFIG], app[STORE], runbook_for=app[RUNBOOKS].runbook_id_for)
    automation = StepAutomation(app[CONFIG], app[RUNBOOKS], engine.repo, app[PROBES])
    app[AUTOMATION] = automation
    if app[PROBING_ENABLED]:  # diagnostics probe the network too
        engine.listeners.append(automation.on_changes)
    await engine.start()
    app[ENGINE] = engine
    snapshot = app[METRICS].snapshot
    _sync_check_states(snapshot, engine)
    snapshot.set_open_incidents(_open_by_severity(engine.book.active.values()))

    async def on_changes(changes, active) -> None:  # noqa: ANN001 - the engine's Listener
        snapshot.set_open_incidents(_open_by_severity(active.values()))

    engine.listeners.append(on_changes)

    async def ingest(ref, result):  # noqa: ANN001, ANN202 - the scheduler's Sink
        snapshot.observe_result(ref.key, result)
        app[WATCH].observe_result(ref, result)
        try:
            return await engine.ingest(ref, result)
        finally:
            health = engine.health[ref.key]
            snapshot.set_check_state(ref.key, health.state, health.flapping)

    async def on_trap(trap):  # noqa: ANN001, ANN202 - a trap may move any circuit's SNMP check
        try:
            return await engine.on_trap(trap)
        finally:
            _sync_check_states(snapshot, engine)

    plans = engine.plans
    if not app[PROBING_ALLOWED]:
        plans = [p for p in plans if not addresses_in_test_range([p.target.address])]
    scheduler = Scheduler(
        plans, ingest, engine.pending, probes=app[PROBES], recent_rtt=engine.recent_rtt
    )
    engine.kick = scheduler.kick
    app[SCHEDULER] = scheduler
    ticks = asyncio.create_task(engine.run_ticks(), name="engine ticks")
    traps = None
    if app[PROBING_ENABLED]:
        await scheduler.start()
        if app[CONFIG].traps is not None:
            traps = await TrapIntake(app[CONFIG].traps, on_trap).start()
    try:
        yield
    finally:
        if traps is not None:
            await traps.close()
        await scheduler.stop()
        await automation.close()
        await cancel_and_wait([ticks])


def _sync_check_states(snapshot: MetricsSnapshot, engine) -> None:  # noqa: ANN001 - noc.runtime.engine.Engine
    for key, health in engine.health.items():
        snapshot.set_check_state(key, health.state, health.flapping)


def _open_by_severity(incidents: Iterable) -> dict[str, int]:
    """Open + acknowledged incidents per severity (the engine's and the store's both have these)."""
    return dict(Counter(i.severity for i in incidents if i.status in ("open", "acknowledged")))


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Refresh the snapshot's store-derived figures: open incidents (operators resolve and close
    them through the API too), the SLA gauges (every minute) and the KPI gauges (every five
    minutes, in a thread). Never inside a scrape."""
    from noc.store.incidents import IncidentRepo
    from sla.report import current_snapshot

    snapshot = app[METRICS].snapshot
    repo = IncidentRepo(app[STORE], app[CONFIG].site.name)
    stop = asyncio.Event()

    async def refresh_incidents() -> None:
        while not await wait_event(stop, INCIDENT_REFRESH_SECONDS):
            try:
                snapshot.set_open_incidents(_open_by_severity(await repo.load_active()))
            except Exception:  # the store may be briefly away; keep the last figures
                log.exception("incident_metrics_failed")

    async def refresh_sla() -> None:
        while True:
            try:
                snapshot.set_sla(
                    await current_snapshot(
                        app[STORE], app[CONFIG], app[RUNBOOKS], dt.datetime.now(dt.UTC)
                    )
                )
            except (
                Exception
            ):  # keep the last figures; noc_sla_last_computed_timestamp_seconds shows their age
                log.exception("sla_metrics_failed")
            if await wait_event(stop, SLA_REFRESH_SECONDS):
                return

    # the KPIs read a month of calls, tickets and their events (~80,000 rows, seconds of Python
    # work): on a loop and a store of their own in a thread, so probes and scrapes never wait
    worker = LoopThread("kpi metrics")
    db_url = app[DB_URL]

    async def kpi_snapshot(state: dict):  # noqa: ANN202 - runs on the worker's loop
        from noc.kpi_view import current_kpi_snapshot

        if "store" not in state:
            state["store"] = await Store.open(db_url, migrate=False)
        return await current_kpi_snapshot(state["store"], app[CONFIG], dt.datetime.now(dt.UTC))

    async def close_store(state: dict) -> None:
        if "store" in state:
            await state["store"].close()

    async def refresh_kpi() -> None:
        while True:
            try:
                snap = await worker.run(kpi_snapshot)
                snapshot.set_kpi(snap)
                log.info("kpi_metrics_computed", period=snap.period, seconds=round(snap.seconds, 3))
            except Exception:  # keep the last figures; noc_kpi_last_computed_timestamp_seconds ages
                log.exception("kpi_metrics_failed")
            if await wait_event(stop, KPI_REFRESH_SECONDS):
                return

    tasks = [
        asyncio.create_task(refresh_incidents(), name="incident metrics"),
        asyncio.create_task(refresh_sla(), name="sla metrics"),
        asyncio.create_task(refresh_kpi(), name="kpi metrics"),
    ]
    try:
        yield
    finally:
        stop.set()
        await cancel_and_wait(tasks)
        await worker.close(close_store)


async def alerting_ctx(app: web.Application) -> AsyncIterator[None]:
    """The outbox worker and the alerting pipeline (timeline → groups → outbox)."""
    from alerting.notify import Notifier
    from alerting.outbox import Outbox
    from alerting.pipeline import AlertPipeline

    config = app[CONFIG]
    # a stop lets a message being sent finish for at most 2 s (SIGTERM must end the service within 5 s);
    # one cut short is retried at the next start (at-least-once)
    delivery = config.alerting.delivery
    outbox = Outbox(
        app[STORE],
        Notifier(config.alerting.receiver_urls()),
        stop_grace=2.0,
        base_backoff=delivery.retry_initial,
        max_backoff=delivery.retry_max,
        max_age=dt.timedelta(seconds=delivery.give_up_after),
    )
    pipeline = AlertPipeline(config, app[STORE], app[RUNBOOKS], outbox)
    await pipeline.start()
    app[OUTBOX], app[PIPELINE] = outbox, pipeline
    app[ENGINE].listeners.append(pipeline.on_engine_changes)

    async def refresh_metrics() -> None:
        while True:
            try:
                app[METRICS].outbox.snapshot = await outbox.stats()
            except Exception:  # the store may be briefly away; keep the last snapshot
                log.exception("outbox_stats_failed")
            await asyncio.sleep(5)

    tasks = [
        asyncio.create_task(outbox.run(), name="outbox"),
        asyncio.create_task(pipeline.run(), name="alerting"),
        asyncio.create_task(refresh_metrics(), name="outbox metrics"),
    ]
    try:
        yield
    finally:
        await cancel_and_wait(tasks)


def create_app(
    config: NocConfig,
    db_url: str | None = None,
    *,
    probing: bool = True,
    runbooks: RunbookSet | None = None,
) -> web.Application:
    """The service. Runbooks default to the shipped ones (a broken runbook fails here, loudly)."""
    scrubber.add(secret_values(config))
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[CONFIG] = config
    app[POLICY] = config.security.policy()
    app[TOKENS] = TokenCache()
    app[DB_URL] = resolve_db_url(db_url, config.server.db)
    app[METRICS] = Metrics(config)
    app[PROBING_ENABLED] = probing
    app[HUB] = EventHub()
    app[RUNBOOKS] = runbooks if runbooks is not None else load_runbooks()
    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(probe_safety_ctx)
    app.cleanup_ctx.append(probes_ctx)
    app.cleanup_ctx.append(watch_ctx)
    app.cleanup_ctx.append(engine_ctx)
    app.cleanup_ctx.append(metrics_ctx)
    app.cleanup_ctx.append(alerting_ctx)
    app.cleanup_ctx.append(reports_api.reports_ctx)  # the monthly report, made on demand
    for module in WEB_MODULES:  # every route with its permission (noc.web.routes)
        add_routes(app, module.ROUTES)
    console.setup(app)  # pages, forms, live feed, static files (declared alike)
    transport.setup(app)  # security headers on every response
    return app
