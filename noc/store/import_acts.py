"""Acts that commit in batches — a file import, the demo history — audited with one row each.

An import of calls, tickets or knowledge-base entries (and ``noc demo generate``) stores its
records in batches, each committed in its own transaction (:mod:`noc.calls_intake`,
:mod:`noc.demo.load`), so that a file of a year's calls never holds the store's write lock for
minutes and what it reports as stored has been committed. No one transaction holds the whole
act, so the act is recorded by **one summary row written right after its last batch**, with
the file (name, SHA-256) and the counts — not inside the last batch's transaction: that would
only narrow the gap for the last batch while leaving it open between all the others, and
would reach into the batching itself.

:func:`batched_acting`: the actor is checked **before** anything is read or written (an
unbound OS account or too little role leaves a ``refused`` row, and nothing else happens); the
body sets ``act.after`` (what it did) and may :meth:`BatchedAct.refuse` (``--strict`` found a
bad row, so nothing was written); an error on the way (a file that cannot be read, a database
that fails) leaves a ``refused`` row with the reason and any counts the body had set. So every
attempt leaves exactly one row. What it cannot cover: a process killed between a committed
batch and the summary leaves those batches without a row; importing the same file again
changes nothing but is recorded (its rows then count as duplicates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from noc.core.errors import NocError
from noc.core.logs import get_logger
from noc.identity.actor import Actor, require
from noc.identity.audit import AuditEntry
from noc.identity.roles import DEFAULT_TABLE, PermissionTable
from noc.store.audit_log import AuditLog
from noc.store.repo import Store

log = get_logger("noc.store.import_acts")


@dataclass
class BatchedAct:
    """An act in progress: say what it did in ``after`` (a dict the body fills in)."""

    target: str
    after: dict[str, Any] = field(default_factory=dict)
    refusal: str | None = None

    def refuse(self, reason: str) -> None:
        """The act wrote nothing on purpose (``--strict``): its row is ``refused``."""
        self.refusal = reason


@asynccontextmanager
async def batched_acting(
    store: Store,
    actor: Actor,
    action: str,
    permission: str,
    target: str,
    table: PermissionTable = DEFAULT_TABLE,
) -> AsyncIterator[BatchedAct]:
    """Check ``actor`` first, run the body (which commits its own batches), then record one
    row: ``ok`` with ``act.after``, or ``refused`` with the reason (see the module)."""
    act = BatchedAct(target)
    audit = AuditLog(store)
    try:
        require(actor, permission, table)
        yield act
    except Exception as exc:  # a refusal, or a failing database: recorded if the store answers
        if isinstance(exc, NocError):
            reason = exc.message
        else:
            reason = f"失败 failed: {type(exc).__name__}: {exc}"[:2000]
        entry = AuditEntry.by(
            actor, action, act.target, outcome="refused", reason=reason, after=act.after or None
        )
        try:
            await audit.record(entry)
        except Exception:  # noqa: BLE001 - the original failure is what the operator needs
            log.error("audit_row_lost", action=action, target=act.target, reason=reason)
        raise
    outcome = "ok" if act.refusal is None else "refused"
    await audit.record(
        AuditEntry.by(
            actor, action, act.target, outcome=outcome, reason=act.refusal or "", after=act.after
        )
    )


__all__ = ["BatchedAct", "batched_acting"]
