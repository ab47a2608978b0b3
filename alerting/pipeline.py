"""The alerting shell: incident timeline → alert events → groups → messages in the outbox.

Alerting reads the **event log**, not the engine's memory: it tails ``incident_events`` (woken
at once by the engine after each change, and every second for actions made by other processes,
such as ``noc incident ack`` from a terminal). Each relevant event becomes an ``AlertEvent``;
the grouper applies routes and timers, the muter maintenance windows; due batches are rendered
and written to the outbox before delivery. Escalations are decided here too and recorded as
``escalated`` events, so they travel the same path and stay in the timeline.

After a restart the tail resumes from the active and recently changed incidents, and the
grouper is seeded with what the outbox already holds, so nothing is sent twice and nothing
written before the crash is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select

from alerting.grouping import AlertGrouper
from alerting.model import AlertEvent
from alerting.mute import AlertMuter, Window, outlasting
from alerting.routing import compile_tree
from alerting.templates import to_message, warm_up
from incident_runbooks.loader import RunbookSet
from noc.config import NocConfig
from noc.core.aio import wait_event
from noc.core.logs import get_logger
from noc.engine.topology import upstream_map
from noc.store.repo import Store
from noc.store.tables import Incident, IncidentEvent, Notification
from noc.store.types import UTC

log = get_logger("alerting.pipeline")

# timeline kinds that are told to people, and as what
ALERT_KINDS = {
    "opened": "opened",
    "regraded": "regraded",
    "escalated": "escalated",
    "acknowledged": "acknowledged",
    "recovered": "recovered",
    "closed": "closed",
}
RESUME_WINDOW = dt.timedelta(hours=24)
ESCALATION_CHECK_SECONDS = 1.0


def _epoch(value: dt.datetime | None) -> float | None:
    return value.timestamp() if value else None


def sent_from_dedup_key(key: str) -> list[tuple[int, int, str]]:
    """(incident, seq, receiver) triples an outbox row covers (the grouper's dedup seed)."""
    receiver, _, keys = key.partition("/")
    out = []
    for part in keys.split(","):
        pieces = part.split(":")
        if len(pieces) >= 2 and pieces[0].isdigit() and pieces[1].isdigit() and len(pieces) == 2:
            out.append((int(pieces[0]), int(pieces[1]), receiver))
    return out


class AlertPipeline:
    def __init__(
        self,
        config: NocConfig,
        store: Store,
        runbooks: RunbookSet,
        outbox: Any,
        *,
        poll_interval: float = 1.0,
    ):
        self.config = config
        self.store = store
        self.runbooks = runbooks
        self.outbox = outbox
        self.poll_interval = poll_interval
        self.tree = compile_tree(config.alerting.route)
        self.grouper: AlertGrouper | None = None
        self.muter = AlertMuter()
        self._cursor = 0
        self._escalated_at = 0.0
        self._wake = asyncio.Event()
        self._last_tick = dt.datetime.now(UTC).timestamp()
        self._latest: dict[
            int, AlertEvent
        ] = {}  # incident → its latest alert event (for window ends)
        self.kinds = {a.name: a.kind for a in config.assets}
        # a window upstream (the CE router) mutes what runs over it, as the SLA excuses it
        self.upstream = upstream_map(config)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        warm_up()
        async with self.store.sessions() as session:
            keys = (await session.scalars(select(Notification.dedup_key))).all()
            self._cursor = await session.scalar(select(func.max(IncidentEvent.id))) or 0
            since = dt.datetime.now(UTC) - RESUME_WINDOW
            recent = select(Incident.id).where(
                or_(
                    Incident.status.in_(("open", "acknowledged", "recovered")),
                    Incident.closed_at >= since,
                )
            )
            backlog = (
                await session.scalars(
                    select(IncidentEvent)
                    .where(IncidentEvent.incident_id.in_(recent))
                    .order_by(IncidentEvent.id)
                )
            ).all()
        self.grouper = AlertGrouper(
            self.tree, sent=[t for k in keys for t in sent_from_dedup_key(k)]
        )
        await self._refresh_windows()
        self._add(await self._to_alerts(backlog), dt.datetime.now(UTC).timestamp())
        log.info("alerting_started", resumed_events=len(backlog), outbox_rows=len(keys))

    def _add(self, events: Iterable[AlertEvent], now: float) -> None:
        """Into the grouper, unless muted (maintenance, inhibition): a muted opening is told when
        its window ends, if the incident outlasts it."""
        for event in events:
            reason = self.muter.muted(event, now)
            if reason:
                log.info("alert_muted", incident=event.incident_id, kind=event.kind, reason=reason)
                continue
            self.grouper.add(event, now)

    def poke(self) -> None:
        """New incident events are in the store: look now rather than at the next poll."""
        self._wake.set()

    async def on_engine_changes(self, _changes, _active) -> None:
        self.poke()

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep alerting alive; the store keeps what was not yet sent
                log.exception("alerting_step_failed")
            timeout = self.poll_interval
            due = self.grouper.next_due() if self.grouper else None
            if due is not None:
                timeout = max(0.0, min(timeout, due - dt.datetime.now(UTC).timestamp()))
            await wait_event(self._wake, timeout)
            self._wake.clear()

    async def step(self) -> int:
        """One round: escalate, read new events, feed the grouper, write due messages to the outbox."""
        now = dt.datetime.now(UTC).timestamp()
        if now - self._escalated_at >= ESCALATION_CHECK_SECONDS:
            # deadlines are minutes long: once a second is plenty, and it keeps this write
            # transaction off the path of a fresh incident's first message
            self._escalated_at = now
            await self._escalate(now)
        async with self.store.sessions() as session:
            rows = (
                await session.scalars(
                    select(IncidentEvent)
                    .where(IncidentEvent.id > self._cursor)
                    .order_by(IncidentEvent.id)
                )
            ).all()
        if rows:
            self._cursor = rows[-1].id
        await self._refresh_windows()
        self._add(await self._to_alerts(rows), now)
        for window in self.muter.ended_windows(self._last_tick, now):
            for event in outlasting(window, self._latest.values(), self.muter):
                self.grouper.add(event, now)
        self._last_tick = now
        batches = self.grouper.due(now, muted=self.muter)
        if not batches:
            return 0
        messages = []
        for batch in batches:
            receiver = self.config.alerting.receiver(batch.receiver)
            messages.append(
                to_message(
                    batch,
                    receiver.locale,
                    public_url=self.config.server.public_url,
                    tz=self.config.site.timezone,
                )
            )
        written = await self.outbox.enqueue(messages)
        self.outbox.notify_new()
        log.info(
            "alerts_queued",
            messages=len(messages),
            new=written,
            kinds=sorted({m.event_kind for m in messages}),
        )
        return written

    # -- building alert events ---------------------------------------------------------------

    async def _to_alerts(self, rows: Iterable[IncidentEvent]) -> list[AlertEvent]:
        rows = [r for r in rows if r.kind in ALERT_KINDS]
        if not rows:
            return []
        ids = {r.incident_id for r in rows}
        async with self.store.sessions() as session:
            incidents = {
                i.id: i
                for i in (await session.scalars(select(Incident).where(Incident.id.in_(ids)))).all()
            }
        out = []
        for row in rows:
            incident = incidents.get(row.incident_id)
            if (
                incident is None
                or incident.close_note
                and incident.close_note.startswith("merged into")
            ):
                continue  # a merged incident is told as part of its parent
            event = self._alert(incident, row)
            out.append(event)
            self._latest[incident.id] = event
            if row.kind == "closed":
                self._latest.pop(incident.id, None)
        return out

    def _alert(self, incident: Incident, row: IncidentEvent) -> AlertEvent:
        impact = incident.impact or {}
        root = incident.root_asset
        asset = self.config.assets_by_name.get(root)
        members = list(impact.get("members", []))
        symptoms = impact.get("symptoms", [])
        assets = tuple(
            dict.fromkeys(([root] if asset else []) + members + [s["asset"] for s in symptoms])
        )
        services = impact.get("services", [])
        titles = {s.name: s.title for s in self.config.services}
        severity = row.data.get("to") if row.kind == "regraded" else incident.severity
        labels = {
            "site": incident.site,
            "asset": root,
            "asset_kind": asset.kind if asset else "phone",
            "fault_type": incident.fault_type,
            "severity": severity,
            "services": ",".join(sorted(s["service"] for s in services)),
        }
        context: dict[str, Any] = {
            "fault_type": incident.fault_type,
            "asset": root,
            "asset_title": asset.title.model_dump() if asset and asset.title else root,
            "services": [
                {
                    "service": s["service"],
                    "title": titles[s["service"]].model_dump()
                    if s["service"] in titles
                    else s["service"],
                }
                for s in services
            ],
            "symptoms": [{"asset": s["asset"], "type": s["type"]} for s in symptoms],
            "members": members,
            "detected_at": _epoch(incident.detected_at),
            "fault_started_at": _epoch(incident.fault_started_at),
        }
        if incident.fault_type in self.runbooks.fault_types():
            rb = self.runbooks.for_fault(incident.fault_type)
            context["runbook"] = {"title": rb.title, "steps": [s.title for s in rb.first_steps(3)]}
        data = row.data or {}
        if row.kind == "opened":
            context["evidence"] = data.get("evidence") or ""
        elif row.kind == "regraded":
            context["from"] = data.get("from")
        elif row.kind == "escalated":
            context["escalate_to"] = data.get("notify")
            context["escalation_title"] = data.get("title") or ""
        elif row.kind == "acknowledged":
            context["acknowledged_by"] = row.actor or ""
            if data.get("note"):
                context["note"] = data["note"]
        elif row.kind == "recovered":
            context["recovery_kind"] = (
                data.get("recovery_kind") or incident.recovery_kind or "automatic"
            )
            context["duration_seconds"] = (
                data.get("duration_seconds") or (row.at - incident.fault_started_at).total_seconds()
            )
            if data.get("flapping"):  # held open by flapping: outages, minutes, really down
                context["flapping"] = data["flapping"]
        elif row.kind == "closed" and data.get("note"):
            context["note"] = data["note"]
        return AlertEvent(
            incident_id=incident.id,
            kind=ALERT_KINDS[row.kind],
            at=row.at.timestamp(),
            severity=severity,
            labels=labels,
            context=context,
            seq=row.seq,
            assets=assets,
        )

    # -- escalation ------------------------------------------------------------------------------

    async def _escalate(self, now: float) -> None:
        """Record due escalations as ``escalated`` events (they are then alerted like any event)."""
        async with self.store.timeline_writer() as session:
            active = (
                await session.scalars(
                    select(Incident)
                    .where(Incident.status.in_(("open", "acknowledged")))
                    .with_for_update()
                )
            ).all()
            for incident in active:
                if incident.fault_type not in self.runbooks.fault_types():
                    continue
                done = {
                    (e.data.get("reason"), e.data.get("notify"), e.data.get("after"))
                    for e in (
                        await session.scalars(
                            select(IncidentEvent).where(
                                IncidentEvent.incident_id == incident.id,
                                IncidentEvent.kind == "escalated",
                            )
                        )
                    ).all()
                }
                for due in self._due(incident, now):
                    if (due["reason"], due["notify"], due["after"]) in done:
                        continue
                    await self.store.append_incident_event(
                        session,
                        incident.id,
                        "escalated",
                        dt.datetime.fromtimestamp(now, UTC),
                        "noc",
                        due,
                    )
                    log.info(
                        "incident_escalated",
                        incident=incident.id,
                        notify=due["notify"],
                        reason=due["reason"],
                    )

    def _due(self, incident: Incident, now: float) -> list[dict[str, Any]]:
        runbook = self.runbooks.for_fault(incident.fault_type)
        level = incident.peak_severity
        elapsed = now - incident.detected_at.timestamp()
        due = []
        for tier in runbook.due_escalations(level, elapsed):  # not recovered after …
            due.append(
                {
                    "reason": "not_recovered",
                    "notify": tier.notify,
                    "after": tier.after,
                    "title": tier.title.model_dump(),
                }
            )
        if incident.status == "open":  # nobody has acknowledged it yet
            deadline = runbook.deadline(level).acknowledge
            for n, receiver in enumerate(self.config.alerting.ack_escalation_chain, start=1):
                if elapsed >= n * deadline:
                    due.append(
                        {
                            "reason": "not_acknowledged",
                            "notify": receiver,
                            "after": n * deadline,
                            "title": {
                                "zh": f"{int(n * deadline // 60)}分钟未确认",
                                "en": f"not acknowledged after {int(n * deadline // 60)} min",
                            },
                        }
                    )
        return due

    async def _refresh_windows(self) -> None:
        rows = await self.store.maintenance_windows()
        self.muter = AlertMuter([Window.from_row(r) for r in rows], upstream=self.upstream)
