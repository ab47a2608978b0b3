"""The alerting shell: incident timeline → alert events → groups → messages in the outbox.

Alerting reads the **event log**, not the engine's memory: it tails ``incident_events`` (woken
at once by the engine after each change, and every second for actions made by other processes,
such as ``noc incident ack`` from a terminal). Each relevant event becomes an ``AlertEvent``
(:func:`alerting.events.alert_event`, pure: this module only fetches the rows and hands them
over); the grouper applies routes and timers, the muter maintenance windows; due batches are
rendered and written to the outbox before delivery. Escalations are decided here too and recorded as
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

from alerting.events import ALERT_KINDS, alert_event, told
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
from noc.store.incidents import IncidentRepo
from noc.store.maintenance import MaintenanceRepo
from noc.store.notifications import NotificationRepo
from noc.store.repo import Store
from noc.store.tables import Incident, IncidentEvent
from noc.store.timeline import Timeline
from noc.store.types import UTC

log = get_logger("alerting.pipeline")

RESUME_WINDOW = dt.timedelta(hours=24)
ESCALATION_CHECK_SECONDS = 1.0


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
        self.incidents = IncidentRepo(store, config.site.name)
        self.timeline = Timeline(store)
        self.maintenance = MaintenanceRepo(store)
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
        resume = await NotificationRepo(self.store).resume_point(
            dt.datetime.now(UTC) - RESUME_WINDOW
        )
        self._cursor = resume.cursor
        keys, backlog = resume.dedup_keys, resume.backlog
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
        rows = await self.timeline.events_after(self._cursor)
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
        incidents = await self.incidents.by_ids({r.incident_id for r in rows})
        out = []
        for row in rows:
            incident = incidents.get(row.incident_id)
            if not told(incident, row):
                continue  # a merged incident is told as part of its parent
            event = alert_event(incident, row, self.config, self.runbooks)
            out.append(event)
            self._latest[incident.id] = event
            if row.kind == "closed":
                self._latest.pop(incident.id, None)
        return out

    # -- escalation ------------------------------------------------------------------------------

    async def _escalate(self, now: float) -> None:
        """Record due escalations as ``escalated`` events (they are then alerted like any event)."""
        covered = self.runbooks.fault_types()
        recorded = await self.incidents.escalate(
            lambda incident: self._due(incident, now) if incident.fault_type in covered else [],
            dt.datetime.fromtimestamp(now, UTC),
            "noc",
        )
        for incident_id, due in recorded:
            log.info(
                "incident_escalated",
                incident=incident_id,
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
        rows = await self.maintenance.windows()
        self.muter = AlertMuter([Window.from_row(r) for r in rows], upstream=self.upstream)
