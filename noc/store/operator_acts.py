"""The operator acts on incidents, maintenance and alert channels: check, write and audit in one
transaction.

Shared by the API, the console's forms and the CLI (as :mod:`noc.store.accounts` is for accounts), so both refuse
the same things for the same reasons and leave the same audit rows (:data:`ACTIONS`). The name
recorded on the incident's timeline or the window is the acting account's, never typed text.
A refusal (no permission, unknown incident, wrong status, bad request) rolls the act back and
leaves a ``refused`` row (:meth:`noc.store.audit_log.AuditLog.acting`); a write through an API
token marks the token used in the same transaction.

Two acts can no longer talk the SLA down:

- a step recorded with an intervention flag other than its runbook's (``no intervention`` on a
  step that changes the network turns a manual recovery into an automatic one; the reverse
  moves a recovery from the 15-minute to the 24-hour target) needs ``step.override`` and a
  reason, and is kept on the timeline (``override``) for the SLA report to list;
- a maintenance window mutes alerts once created, but counts for the SLA only after a second
  person holding ``maintenance.approve`` (a lead, or the auditor: configurable) approves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from noc.core.errors import InputError, NocError
from noc.identity.actor import Actor, require
from noc.identity.audit import AuditEntry
from noc.identity.policy import SecurityPolicy
from noc.identity.roles import DEFAULT_TABLE, PermissionTable
from noc.identity.rules import check_second_person
from noc.store.api_tokens import TokenRepo
from noc.store.audit_log import Act, AuditLog
from noc.store.incidents import IncidentRepo
from noc.store.maintenance import MaintenanceRepo
from noc.store.repo import Store
from noc.store.tables import Incident, MaintenanceWindow
from noc.store.types import utcnow

ACTIONS: dict[str, str] = {
    "incident.ack": "ack",
    "incident.step": "step",
    "incident.diagnose": "diagnose",
    "incident.resolve": "resolve",
    "incident.close": "close",
    "incident.regrade": "regrade",
    "maintenance.add": "maintenance.write",
    "maintenance.end": "maintenance.write",
    "maintenance.approve": "maintenance.approve",
    "alert.test": "alert.test",
}
"""audit action → the permission it needs."""

OVERRIDE_PERMISSION = "step.override"


def window_audit(row: MaintenanceWindow) -> dict[str, Any]:
    """What an audit row keeps of a window."""
    return {
        "assets": list(row.assets or ()),
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "reason": row.reason,
        "created_by": row.created_by,
        "approved_by": row.approved_by,
    }


def check_by(actor: Actor, by: str | None) -> None:
    """The name on the record is the actor's: a typed name that differs is refused."""
    if by is not None and str(by).strip() and str(by).strip() != actor.user:
        raise InputError(
            f"操作人即当前登录账号 {actor.user} / the acting account ({actor.user}) is recorded; "
            f"'by' may not name someone else ({str(by).strip()!r})"
        )


@asynccontextmanager
async def acting(
    store: Store,
    actor: Actor,
    action: str,
    permission: str,
    target: str,
    table: PermissionTable = DEFAULT_TABLE,
) -> AsyncIterator[Act]:
    """An audited act: ``actor`` must hold ``permission``; the body writes in ``act.tx``; the
    audit row (``ok``, or ``refused`` with the reason) and, for a token, its last use go with it.
    The one way an operator's or a register's write is done (:mod:`noc.store.register_acts`)."""
    async with AuditLog(store).acting(actor, action, target) as act:
        require(actor, permission, table)
        yield act
        if actor.credential and actor.credential.startswith("token:"):
            token_id = int(actor.credential.split(":", 1)[1])
            await TokenRepo(store).mark_used(act.tx, token_id, utcnow())


async def record_refusal(
    store: Store, actor: Actor, action: str, target: str, exc: NocError
) -> None:
    """One ``refused`` row for an attempt refused before its act began."""
    await AuditLog(store).record(
        AuditEntry.by(actor, action, target, outcome="refused", reason=exc.message)
    )


class OperatorActs:
    def __init__(self, store: Store, site: str, policy: SecurityPolicy | None = None):
        self.store = store
        self.site = site
        self.policy = policy or SecurityPolicy()
        self.table = self.policy.permissions
        self.audit = AuditLog(store)
        self.incidents = IncidentRepo(store, site)
        self.maintenance = MaintenanceRepo(store)
        self.tokens = TokenRepo(store)

    @asynccontextmanager
    async def _act(
        self, actor: Actor, action: str, target: str, by: str | None = None
    ) -> AsyncIterator[Act]:
        async with acting(self.store, actor, action, ACTIONS[action], target, self.table) as act:
            check_by(actor, by)
            yield act

    async def refused(self, actor: Actor, action: str, target: str, exc: NocError) -> None:
        """Record an attempt refused before its act began (e.g. a step its runbook lacks)."""
        await record_refusal(self.store, actor, action, target, exc)

    @asynccontextmanager
    async def _incident_act(
        self, actor: Actor, action: str, incident_id: int, by: str | None = None
    ) -> AsyncIterator[Act]:
        """An act on one incident that changes its status: the status before is recorded."""
        async with self._act(actor, action, f"incident:{incident_id}", by) as act:
            status = await act.tx.scalar(select(Incident.status).where(Incident.id == incident_id))
            act.before = None if status is None else {"status": status}
            yield act

    # -- incidents -----------------------------------------------------------------------

    async def acknowledge(
        self, actor: Actor, incident_id: int, note: str = "", by: str | None = None
    ) -> Incident:
        async with self._incident_act(actor, "incident.ack", incident_id, by) as act:
            row = await self.incidents.acknowledge(incident_id, actor.user, note, tx=act.tx)
            act.after = {"status": row.status, "note": note}
        return row

    async def record_step(
        self,
        actor: Actor,
        incident_id: int,
        step: str,
        output: str = "",
        intervention: bool | None = None,
        runbook_intervention: bool | None = None,
        reason: str = "",
        by: str | None = None,
    ) -> tuple[Incident, bool]:
        """Record a runbook step; returns (incident, whether it counts as an intervention).

        ``intervention`` None takes the runbook's flag (``runbook_intervention``; a step outside
        any runbook: no intervention). Any other flag than the runbook's is an override: it
        needs ``step.override`` and a ``reason``, and both go on the timeline.
        """
        async with self._act(actor, "incident.step", f"incident:{incident_id}", by) as act:
            flag = bool(runbook_intervention) if intervention is None else intervention
            data: dict[str, Any] = {}
            if runbook_intervention is not None and flag != runbook_intervention:
                require(actor, OVERRIDE_PERMISSION, self.table)
                if not reason.strip():
                    raise InputError(
                        "更改步骤的人工干预标记须说明原因 / overriding a step's intervention "
                        "flag needs a reason"
                    )
                data["override"] = {
                    "runbook_intervention": runbook_intervention,
                    "intervention": flag,
                    "reason": reason.strip(),
                    "by": actor.user,
                }
            row = await self.incidents.step_done(
                incident_id, step, actor.user, output, flag, data=data, tx=act.tx
            )
            act.after = {"step": step, "intervention": flag, **data}
        return row, flag

    async def order_diagnostic(self, actor: Actor, incident_id: int, step: str) -> None:
        """The order to run an automated step now (traceroute, ARP scan …): recorded before it
        runs; its output reaches the timeline as the automation's (``noc-auto``) step."""
        async with self._act(actor, "incident.diagnose", f"incident:{incident_id}") as act:
            act.after = {"step": step}

    async def resolve(
        self, actor: Actor, incident_id: int, note: str, by: str | None = None
    ) -> Incident:
        async with self._incident_act(actor, "incident.resolve", incident_id, by) as act:
            if not note.strip():
                raise InputError(
                    "人工恢复须说明处理结果 / resolving an incident needs a note saying what "
                    "fixed it"
                )
            row = await self.incidents.resolve(incident_id, actor.user, note, tx=act.tx)
            act.after = {"status": row.status, "recovery_kind": row.recovery_kind, "note": note}
        return row

    async def close(
        self, actor: Actor, incident_id: int, note: str, by: str | None = None
    ) -> Incident:
        async with self._incident_act(actor, "incident.close", incident_id, by) as act:
            row = await self.incidents.close(incident_id, actor.user, note, tx=act.tx)
            act.after = {"status": row.status, "note": note}
        return row

    async def regrade(
        self, actor: Actor, incident_id: int, level: str, note: str, by: str | None = None
    ) -> Incident:
        async with self._incident_act(actor, "incident.regrade", incident_id, by) as act:
            row = await self.incidents.regrade(incident_id, actor.user, level, note, tx=act.tx)
            act.after = {"severity": row.severity, "note": note}
        return row

    # -- maintenance ---------------------------------------------------------------------

    async def add_maintenance(
        self,
        actor: Actor,
        assets: list[str],
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        reason: str,
        by: str | None = None,
    ) -> MaintenanceWindow:
        async with self._act(actor, "maintenance.add", ",".join(assets), by) as act:
            if not reason.strip():
                raise InputError("维护须说明原因 / give the reason for the work")
            row = await self.maintenance.add(
                site=self.site,
                assets=assets,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                created_by=actor.user or "",
                tx=act.tx,
            )
            act.target = f"maintenance:{row.id}"
            act.after = window_audit(row)
        return row

    async def end_maintenance(self, actor: Actor, window_id: int) -> MaintenanceWindow:
        async with self._act(actor, "maintenance.end", f"maintenance:{window_id}") as act:
            current = await self.maintenance.get(window_id, act.tx)
            act.before = {"ends_at": current.ends_at.isoformat(), "ended_at": None}
            row = await self.maintenance.end(window_id, tx=act.tx)
            act.after = {"ends_at": row.ends_at.isoformat(), "ended_at": row.ended_at.isoformat()}
        return row

    async def approve_maintenance(self, actor: Actor, window_id: int) -> MaintenanceWindow:
        """A second person approves: from then on the window reduces SLA downtime."""
        async with self._act(actor, "maintenance.approve", f"maintenance:{window_id}") as act:
            current = await self.maintenance.get(window_id, act.tx)
            check_second_person(actor, current.created_by)
            act.before = {"approved_by": current.approved_by}
            row = await self.maintenance.approve(window_id, actor.user or "", tx=act.tx)
            act.after = {"approved_by": row.approved_by, "approved_at": row.approved_at.isoformat()}
        return row

    # -- alert channels ------------------------------------------------------------------

    async def order_test_message(self, actor: Actor, receiver: str) -> None:
        """The order to send a test message to ``receiver``: recorded before the outbox queues
        it (as a diagnostic's order is), so every message a person caused has its row."""
        async with self._act(actor, "alert.test", f"receiver:{receiver}") as act:
            act.after = {"receiver": receiver}


__all__ = ["ACTIONS", "OperatorActs", "acting", "check_by", "record_refusal", "window_audit"]
