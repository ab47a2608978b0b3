"""The engine's shell: probe results in; transitions and incident events out, durably.

Per result: observation → health machine → (if the state changed) the transition is appended
to the store *first*, then faults are re-classified and the incident book reconciled, and its
changes are written (incident row + timeline events in one transaction) before listeners
(alerting, metrics) hear of them. After a restart the engine resumes from the store: each
check's last recorded state and the active incidents, so an incident open before a crash
continues instead of being opened twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable

from noc.config import NocConfig
from noc.core.logs import get_logger
from noc.core.time import UTC, from_epoch
from noc.core.vocabulary import CIRCUIT_KINDS
from noc.engine.faults import CheckView, Fault, classify_all
from noc.engine.health import CheckHealth, FlapChange, Observation, State, Transition
from noc.engine.incidents import Change, IncidentBook, ServiceSpec
from noc.engine.observe import CheckRef, to_observation
from noc.engine.topology import Topology
from noc.runtime.planning import plan_all
from noc.store.incidents import IncidentRepo
from noc.store.repo import Store
from noc.store.timeline import Timeline
from probes.base import ProbeResult
from probes.snmp.traps import TrapObservation

log = get_logger("noc.engine")
CORROBORATION_SECONDS = 5.0

Listener = Callable[[list[Change], dict], Awaitable[None]]  # (changes, the book's active incidents)


class Engine:
    def __init__(
        self,
        config: NocConfig,
        store: Store,
        runbook_for: Callable[[str], str | None] = lambda t: None,
    ):
        self.config = config
        self.store = store
        self.site = config.site.name
        self.repo = IncidentRepo(store, self.site)
        self.timeline = Timeline(store)
        self.plans = plan_all(config)
        self.refs = {p.ref.key: p.ref for p in self.plans}
        self._snmp_agent = {
            p.ref.key: (c.agent or a.name)
            for p in self.plans
            for a, c in config.iter_checks()
            if p.kind == "snmp" and (a.name, c.check_name) == p.ref.key
        }
        self.health = {
            p.ref.key: CheckHealth(p.ref.asset, p.ref.check, config.health_policy(p.kind))
            for p in self.plans
        }
        self.reasons: dict[tuple[str, str], str] = {}
        self.kinds = {a.name: a.kind for a in config.assets}
        self._checks_by_type: dict[str, dict[str, tuple[str, str]]] = {}
        for plan in self.plans:  # first check of each type per asset (a circuit's icmp and snmp)
            self._checks_by_type.setdefault(plan.ref.asset, {}).setdefault(
                plan.ref.check_type, plan.ref.key
            )
        services = {s.name: ServiceSpec(s.impact, tuple(s.partial)) for s in config.services}
        self.topology = Topology.from_config(config)
        self.book = IncidentBook(
            self.topology, services, config.severity, self.site, self.kinds, runbook_for
        )
        self.listeners: list[Listener] = []
        self.kick: Callable[[Iterable[tuple[str, str]]], object] | None = None  # the scheduler's
        self._lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume from the store: last state of every check, then the active incidents."""
        restored = 0
        rows = await self.timeline.last_changes(self.site)
        for row in rows:
            key = (row.asset, row.check)
            if key in self.health and row.to_state in (State.DOWN, State.DEGRADED):
                self.health[key].state = State(row.to_state)
                self.health[key].changed_at = row.at.timestamp()
                self.reasons[key] = row.reason
                restored += 1
        for incident in await self.repo.load_active():
            self.book.restore(incident)
        # the restored faults must match the restored incidents: this reconcile changes nothing
        # unless the inventory changed while we were down
        changes = (
            self.book.reconcile(self._faults(), now=dt.datetime.now(UTC).timestamp())
            if self.book.active
            else []
        )
        if changes:
            await self._persist(changes)
        log.info(
            "engine_started",
            checks=len(self.health),
            restored_states=restored,
            active_incidents=len(self.book.active),
        )

    async def run_ticks(self, period: float = 1.0) -> None:
        """Background: reconcile while symptoms of a recovered incident are in their grace period."""
        while True:
            await asyncio.sleep(period)
            if self.book.waiting:
                async with self._lock:
                    await self._reconcile(dt.datetime.now(UTC).timestamp(), [])

    # -- queries -----------------------------------------------------------------------------

    def pending(self, key: tuple[str, str]) -> bool:
        health = self.health.get(key)
        return health is not None and health.pending

    def recent_rtt(self, key: tuple[str, str]) -> float | None:
        """The slowest recent round trip of a check: how long a confirmation re-probe need wait."""
        health = self.health.get(key)
        return health.recent_max("rtt_avg_seconds") if health is not None else None

    def state(self, key: tuple[str, str]) -> State:
        return self.health[key].state

    def views(self) -> list[CheckView]:
        out = []
        for key, health in self.health.items():
            if health.state is State.UNKNOWN:
                continue
            ref = self.refs[key]
            metrics = {m: v for m in health.degraded_by if (v := health.metric(m)) is not None}
            out.append(
                CheckView(
                    ref.asset,
                    ref.check,
                    ref.check_type,
                    health.state,
                    health.changed_at or 0.0,
                    self.reasons.get(key, ""),
                    health.flapping,
                    health.degraded_by,
                    metrics,
                )
            )
        return out

    # -- the fold ----------------------------------------------------------------------------

    async def ingest(self, ref: CheckRef, result: ProbeResult) -> list[Change]:
        obs = to_observation(ref, result)
        if obs is None:
            return []
        return await self.ingest_observation(ref, obs)

    async def on_trap(self, trap: TrapObservation) -> list[Change]:
        """An SNMP trap is an immediate observation: linkDown fails the circuit's SNMP check now
        (confirmation polls follow at once), linkUp counts as a good one, a (re)start re-polls."""
        agents = {a.name for a in self.config.assets if a.address == trap.source and a.snmp}
        log.info(
            "snmp_trap",
            source=trap.source,
            kind=trap.kind,
            if_name=trap.if_name,
            known=bool(agents),
        )
        changes: list[Change] = []
        if trap.kind in ("link_down", "link_up") and trap.if_name:
            for ref in self.refs.values():
                plan_agent = self._snmp_agent.get(ref.key)
                if plan_agent in agents and trap.if_name in ref.interfaces:
                    ok = trap.kind == "link_up"
                    obs = Observation(
                        ref.asset,
                        ref.check,
                        trap.received_at,
                        ok,
                        "ok" if ok else "interface_down",
                        f"SNMP {'linkUp' if ok else 'linkDown'} trap from {trap.source}",
                        {},
                        ("trap",),
                    )
                    changes += await self.ingest_observation(ref, obs)
                    if self.kick is not None:
                        self.kick(self.topology.dependent_checks(ref.asset))
        elif trap.kind in ("cold_start", "warm_start") and self.kick is not None:
            for agent in agents:
                self.kick(self.topology.dependent_checks(agent))
        return changes

    async def ingest_observation(self, ref: CheckRef, obs: Observation) -> list[Change]:
        async with self._lock:
            events = self.health[ref.key].observe(obs)
            extra: list[Fault] = []
            if "agent_restarted" in obs.findings and ref.check_type == "snmp" and not ref.via_agent:
                uptime = obs.values.get("sys_uptime_seconds", 0.0)
                extra.append(
                    Fault(
                        "router_reboot",
                        ref.asset,
                        ref.check,
                        "minor",
                        obs.at - uptime,
                        "sysUpTime went back: the agent (device) restarted",
                        {"uptime_seconds": uptime},
                    )
                )
            events += self._corroborate(ref.asset)
            if not events and not extra:
                return []
            for event in events:
                await self._record(event)
            at = next((e.at for e in events if isinstance(e, Transition)), obs.at)
            changes = await self._reconcile(at, extra)
            if extra:  # an instantaneous fault: opened and recovered at once
                changes += await self._reconcile(obs.at, [])
            return changes

    def _corroborate(self, asset: str) -> list[Transition]:
        """A circuit whose interface the CE reports down (linkDown trap, ifOperStatus) while its
        pings began failing within CORROBORATION_SECONDS of that: ICMP is DOWN now. Two witnesses
        of one moment need no further confirmation; a stale "oper down" (net-snmp caches ifTable)
        next to an unrelated lost ping minutes later is not one moment."""
        if self.kinds.get(asset) not in CIRCUIT_KINDS:
            return []
        by_type = self._checks_by_type.get(asset, {})
        icmp, snmp = self.health.get(by_type.get("icmp")), self.health.get(by_type.get("snmp"))
        if icmp is None or snmp is None or snmp.state is not State.DOWN or snmp.changed_at is None:
            return []
        started = icmp.failing_since
        if started is None or abs(started - snmp.changed_at) > CORROBORATION_SECONDS:
            return []
        return [icmp.corroborated_down("interface reported down over SNMP")]

    async def _record(self, event: Transition | FlapChange) -> None:
        key = (event.asset, event.check)
        if isinstance(event, Transition):
            await self.timeline.append_transition(
                site=self.site,
                asset=event.asset,
                check=event.check,
                from_state=str(event.from_state),
                to_state=str(event.to_state),
                at=from_epoch(event.at),
                reason=event.reason,
                details=event.details,
            )
            self.reasons[key] = event.reason
            if self.kick is not None:
                # one check changed its mind: the asset's other checks and those running over it
                # confirm now, not at their next interval (a trunk probed every 5 s follows its circuit)
                self.kick(self.topology.dependent_checks(event.asset) - {key})
            log.info(
                "check_transition",
                asset=event.asset,
                check=event.check,
                from_state=str(event.from_state),
                to_state=str(event.to_state),
                reason=event.reason,
            )
        else:
            state = str(self.health[key].state)
            await self.timeline.append_transition(
                site=self.site,
                asset=event.asset,
                check=event.check,
                from_state=state,
                to_state=state,
                at=from_epoch(event.at),
                reason="flapping started" if event.flapping else "flapping stopped",
                details={
                    "flapping": event.flapping,
                    "percent_state_change": round(event.percent_state_change, 4),
                },
            )
            if not event.flapping:
                self.book.release_flapping(event.asset, event.check)
            log.info(
                "check_flapping", asset=event.asset, check=event.check, flapping=event.flapping
            )

    def _faults(self, extra: Iterable[Fault] = ()) -> list[Fault]:
        return classify_all(self.kinds, self.views()) + list(extra)

    async def _reconcile(self, at: float, extra: list[Fault]) -> list[Change]:
        # operators may have resolved or closed incidents through the API or CLI meanwhile
        active_ids = await self.repo.active_ids()
        for key, incident in list(self.book.active.items()):
            if incident.id is not None and incident.id not in active_ids:
                self.book.active.pop(key)
        changes = self.book.reconcile(self._faults(extra), now=at)
        if changes:
            await self._persist(changes)
        return changes

    async def _persist(self, changes: list[Change]) -> None:
        await self.repo.apply(changes, self.book.active)
        for change in changes:
            log.info(
                "incident_" + change.kind,
                key=change.key,
                severity=change.data.get("severity") or change.data.get("to"),
            )
        for listener in self.listeners:
            try:
                await listener(changes, self.book.active)
            except Exception:  # a listener must not break the engine; the store already has it
                log.exception("listener_failed")
