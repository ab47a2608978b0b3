"""故障 incidents: the filtered list, the detail (live timeline, runbook checklist, deliveries,
symptoms, merged incidents) and the actions as plain form posts.

Actions call the same operator acts as ``/api/v1/incidents`` (:class:`noc.store.operator_acts.
OperatorActs`, through :mod:`noc.web.console.acting`) as the logged-in account: the act and its
audit row in one transaction. A success answers 303 back to the incident, a refusal shows it
again with the reason (400, 403, 404, 409). An automated step is ordered (audited), started in
the background, and its output arrives on the page by the live feed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from incident_runbooks.model import ROLES as RUNBOOK_ROLES
from noc.appkeys import AUTOMATION, CONFIG, ENGINE, STORE
from noc.core.errors import ConflictError, UnavailableError
from noc.core.vocabulary import LEVELS
from noc.engine.topology import Topology
from noc.incident_view import incident_detail
from noc.maintenance import MaintenanceRequestError, parse_instant
from noc.store.console import IncidentFilter, deliveries, incidents_page, merged_into
from noc.store.incidents import IncidentNotFound, IncidentRepo
from noc.web.auth import writer
from noc.web.console.acting import act, acts
from noc.web.console.context import lang, site_tz
from noc.web.console.overview import deadlines
from noc.web.console.pages import action, page, subpage
from noc.web.incidents_api import STATUSES, automated_step, runbook_of, runbook_step
from noc.web.requests import path_id

PER_PAGE = 50
RUNNING = web.AppKey("console_running_steps", dict)  # (incident id, step id) -> Task


def _repo(request: web.Request) -> IncidentRepo:
    return IncidentRepo(request.app[STORE], request.app[CONFIG].site.name)


def _filters(request: web.Request) -> tuple[IncidentFilter, dict[str, str], list[str]]:
    """The list's filters from the query; what cannot be read is named, not guessed."""
    config = request.app[CONFIG]
    tz = ZoneInfo(config.site.timezone)
    q = request.query
    shown = {k: q.get(k, "") for k in ("status", "level", "asset", "service", "from", "to")}
    problems = []
    status = shown["status"] if shown["status"] in STATUSES else None
    level = shown["level"] if shown["level"] in LEVELS else None
    roots: tuple[str, ...] | None = None
    if shown["asset"]:
        roots = (shown["asset"],)
    if shown["service"]:
        service = next((s for s in config.services if s.name == shown["service"]), None)
        if service is None:
            problems.append(shown["service"])
        else:
            topology = Topology.from_config(config)
            needed = service.asset_names()
            assets = needed | {up for a in needed for up in topology.ancestors(a)}
            kinds = {config.asset(a).kind for a in needed if a in config.assets_by_name}
            if "phone" in kinds:  # grouped phone incidents are rooted at the site
                assets.add(config.site.name)
            roots = tuple(sorted(assets & set(roots))) if roots is not None else tuple(assets)
    since = until = None
    for key in ("from", "to"):
        if shown[key]:
            try:
                value = parse_instant(shown[key], tz)
            except MaintenanceRequestError:
                problems.append(shown[key])
                continue
            if key == "from":
                since = value
            else:
                until = value + (dt.timedelta(days=1) if len(shown[key]) <= 10 else dt.timedelta())
    return IncidentFilter(status, level, roots, since, until), shown, problems


@page("incidents")
async def incident_list(request: web.Request) -> dict[str, Any]:
    where, shown, problems = _filters(request)
    raw_page = request.query.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    rows, more = await incidents_page(request.app[STORE], where, number, PER_PAGE)
    config = request.app[CONFIG]
    base = {k: v for k, v in shown.items() if v}
    return {
        "rows": rows,
        "filters": shown,
        "problems": problems,
        "page_number": number,
        "prev_query": {**base, "page": number - 1} if number > 1 else None,
        "next_query": {**base, "page": number + 1} if more else None,
        "statuses": STATUSES,
        "levels": LEVELS,
        "asset_names": [a.name for a in config.assets],
        "services": [(s.name, s.title.get(lang(request))) for s in config.services],
    }


def _incident_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise IncidentNotFound(f"no incident {raw!r}")
    return int(raw)


async def detail_context(request: web.Request, incident_id: int) -> dict[str, Any]:
    app = request.app
    repo = _repo(request)
    row = await repo.get(incident_id)  # IncidentNotFound: 404 with the reason
    events = await repo.events(row.id)
    runbook = runbook_of(app, row.fault_type)
    language = lang(request)
    now = dt.datetime.now(dt.UTC)
    detail = incident_detail(row, events, runbook, site_tz(request), language, now)
    running = {step for (i, step), task in app.get(RUNNING, {}).items() if i == row.id}
    return {
        "incident": detail,
        "row": row,
        "countdowns": deadlines(app, row, now),
        "deliveries": await deliveries(app[STORE], row.id),
        "merged": await merged_into(app[STORE], row),
        "running": running,
        "steps": runbook.steps if runbook is not None else [],
        "runbook_roles": {k: v[1] if language == "en" else v[0] for k, v in RUNBOOK_ROLES.items()},
        "levels": LEVELS,
        "live": f"incident:{row.id}",
        "here": f"/incidents/{row.id}",
    }


@subpage("/incidents/{id}", "incident.html")
async def incident_page(request: web.Request) -> dict[str, Any]:
    return await detail_context(request, _incident_id(request))


def _note(form: dict[str, str], key: str = "note") -> str:
    return form.get(key, "").strip()


async def _on_incident(
    request: web.Request, work: Callable[[int], Awaitable[str | None]]
) -> web.StreamResponse:
    """Act on the incident of the path (``work`` returns where to go, None: the incident), then
    303 there; a refusal shows the incident again with the reason (:func:`acting.act`)."""

    async def run() -> str:
        incident_id = path_id(request, "incident")
        return await work(incident_id) or f"/incidents/{incident_id}"

    return await act(
        request, run, "incident.html", lambda: detail_context(request, _incident_id(request))
    )


@action("/incidents/{id}/ack", "ack", "incident.ack")
async def ack(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    async def work(incident_id: int) -> None:
        await acts(request).acknowledge(writer(request), incident_id, _note(form))

    return await _on_incident(request, work)


@action("/incidents/{id}/steps", "step", "incident.step")
async def record_step(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """A runbook step done by hand. The intervention flag is the runbook's unless the form says
    otherwise; saying otherwise is an override (the act: ``step.override`` and a reason)."""

    async def work(incident_id: int) -> None:
        row = await _repo(request).get(incident_id)
        step_id = form.get("step", "").strip()
        step = runbook_step(request.app, row, step_id)
        intervention = {"yes": True, "no": False}.get(form.get("intervention", ""))
        await acts(request).record_step(
            writer(request),
            incident_id,
            step_id,
            _note(form),
            intervention,
            step.intervention if step is not None else None,
            _note(form, "reason"),
        )

    return await _on_incident(request, work)


@action("/incidents/{id}/steps/{step}/run", "diagnose", "incident.diagnose")
async def run_step(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """Order an automated step now (the order is audited); it runs in the background and its
    output reaches the timeline, and the page by the live feed, when it is done."""

    async def work(incident_id: int) -> str:
        row = await _repo(request).get(incident_id)
        step = automated_step(request.app, row, request.match_info["step"])
        automation = request.app.get(AUTOMATION)
        if automation is None:
            raise UnavailableError("自动化未运行 / the step automation is not running here")
        running = request.app[RUNNING]
        key = (row.id, step.id)
        if key in running:
            raise ConflictError(f"步骤 {step.id} 正在执行 / step {step.id!r} is running already")
        await acts(request).order_diagnostic(writer(request), row.id, step.id)
        members = tuple((row.impact or {}).get("members", []))
        task = asyncio.create_task(
            automation.run(row.id, step, row.root_asset, members), name=f"console step {key}"
        )
        running[key] = task
        task.add_done_callback(lambda _t: running.pop(key, None))
        return f"/incidents/{incident_id}#step-{step.id}"

    return await _on_incident(request, work)


@action("/incidents/{id}/regrade", "regrade", "incident.regrade")
async def regrade(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    async def work(incident_id: int) -> None:
        level = form.get("level", "")
        await acts(request).regrade(writer(request), incident_id, level, _note(form))

    return await _on_incident(request, work)


@action("/incidents/{id}/resolve", "resolve", "incident.resolve")
async def resolve(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    async def work(incident_id: int) -> None:
        await acts(request).resolve(writer(request), incident_id, _note(form))
        automation = request.app.get(AUTOMATION)
        if automation is not None and follows_engine(request.app):
            automation.recovered(incident_id)  # verify, as after a recovery the engine saw

    return await _on_incident(request, work)


@action("/incidents/{id}/close", "close", "incident.close")
async def close(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    async def work(incident_id: int) -> None:
        await acts(request).close(writer(request), incident_id, _note(form))

    return await _on_incident(request, work)


async def stop_running(app: web.Application) -> None:
    """On shutdown: steps started from the console end with the service."""
    tasks = list(app.get(RUNNING, {}).values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def follows_engine(app: web.Application) -> bool:
    engine = app.get(ENGINE)
    return engine is not None and app[AUTOMATION].on_changes in engine.listeners
