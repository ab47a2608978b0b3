"""The audit log's tamper evidence: a SHA-256 chain over canonical JSON (安全审计, 完整性).

Each row's ``hash`` is SHA-256 over the canonical JSON of its fields (:data:`HASHED_FIELDS`,
keys sorted, no spaces, UTF-8, instants as UTC ISO 8601 with microseconds) including
``prev_hash``, the previous row's hash (:data:`GENESIS` for the first row ever). Changing,
removing or reordering a row breaks the link to the next one; removing rows from the end is
caught by the chain head the store keeps beside the log.

Retention purges remove the oldest rows; the purge appends a row whose ``after`` names the
last purged row (``through_id``, ``through_hash``), so verification starts from the first
retained row and still knows that the rows before it went by purge, not by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from noc.identity.actor import CHANNELS, Actor
from noc.identity.reasons import Reason

GENESIS = "0" * 64
OUTCOMES: tuple[str, ...] = ("ok", "refused")
PURGE_ACTION = "audit.purge"

HASHED_FIELDS: tuple[str, ...] = (
    "id",
    "at",
    "actor_user",
    "actor_role",
    "credential",
    "channel",
    "source",
    "action",
    "target",
    "outcome",
    "reason",
    "before",
    "after",
    "prev_hash",
)


@dataclass(frozen=True)
class AuditEntry:
    """What happened, by whom: the row minus what the chain adds (id, at, hashes)."""

    action: str
    channel: Literal["api", "console", "cli"]
    source: str
    actor_user: str | None = None
    actor_role: str | None = None
    credential: str | None = None
    target: str = ""
    outcome: Literal["ok", "refused"] = "ok"
    reason: str = ""
    before: Any = None
    after: Any = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"audit channel must be one of {CHANNELS}, not {self.channel!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome must be one of {OUTCOMES}, not {self.outcome!r}")
        if not self.action:
            raise ValueError("an audit entry needs an action")

    @classmethod
    def by(cls, actor: Actor, action: str, target: str = "", **details: Any) -> AuditEntry:
        return cls(
            action=action,
            channel=actor.channel,
            source=actor.source,
            actor_user=actor.user,
            actor_role=actor.role,
            credential=actor.credential,
            target=target,
            **details,
        )


def json_value(value: Any) -> Any:
    """``value`` as it comes back from a JSON column (what is stored is what is hashed)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def instant(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit instants are timezone-aware")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash is taken over."""
    doc = {}
    for name in HASHED_FIELDS:
        value = fields[name]
        doc[name] = instant(value) if isinstance(value, dt.datetime) else value
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    row_id: int
    reason: Reason

    def __str__(self) -> str:
        return f"#{self.row_id}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_id: int | None
    last_id: int | None
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


@dataclass
class ChainVerifier:
    """Feed rows in id order (mappings with :data:`HASHED_FIELDS` and ``hash``), then finish."""

    checked: int = 0
    first: tuple[int, str] | None = None
    last: tuple[int, str] | None = None
    anchor: tuple[int, str] | None = None
    broken: ChainBreak | None = None

    def feed(self, row: Mapping[str, Any]) -> None:
        row_id, stored = int(row["id"]), row["hash"]
        self.checked += 1
        if self.first is None:
            self.first = (row_id, row["prev_hash"])
        elif self.broken is None:
            prev_id, prev_hash = self.last  # type: ignore[misc]
            if row_id != prev_id + 1:
                self._break(
                    row_id,
                    "missing",
                    f"第 {prev_id + 1}–{row_id - 1} 条记录缺失",
                    f"rows #{prev_id + 1}–#{row_id - 1} are missing",
                )
            elif row["prev_hash"] != prev_hash:
                self._break(
                    row_id,
                    "unlinked",
                    f"与上一条（#{prev_id}）的链接断开",
                    f"does not link to the row before it (#{prev_id})",
                )
        if self.broken is None and row_hash(row) != stored:
            self._break(
                row_id, "changed", "记录内容已被改动", "the row was changed after it was written"
            )
        if row["action"] == PURGE_ACTION and row["outcome"] == "ok":
            after = row.get("after") or {}
            if after.get("through_id") is not None:
                self.anchor = (int(after["through_id"]), str(after.get("through_hash")))
        self.last = (row_id, stored)

    def _break(self, row_id: int, code: str, zh: str, en: str) -> None:
        self.broken = ChainBreak(row_id, Reason(code, zh, en))

    def finish(self, head_id: int | None, head_hash: str | None) -> ChainReport:
        """The report; ``head_*`` is what the store recorded as the newest row."""
        broken = self._start_problem() or self.broken or self._end_problem(head_id, head_hash)
        return ChainReport(
            checked=self.checked,
            first_id=self.first[0] if self.first else None,
            last_id=self.last[0] if self.last else None,
            broken=broken,
        )

    def _start_problem(self) -> ChainBreak | None:
        if self.first is None:
            return None
        first_id, prev_hash = self.first
        if first_id == 1 and prev_hash == GENESIS:
            return None
        if self.anchor == (first_id - 1, prev_hash):
            return None
        return ChainBreak(
            first_id,
            Reason(
                "head_missing",
                f"第 {first_id} 条之前的记录缺失，且没有保留期清理记录",
                f"rows before #{first_id} are missing and no retention purge accounts for them",
            ),
        )

    def _end_problem(self, head_id: int | None, head_hash: str | None) -> ChainBreak | None:
        last_id, last_hash = self.last if self.last else (0, GENESIS)
        head_id = head_id or 0
        if head_id == last_id and (head_id == 0 or head_hash == last_hash):
            return None
        return ChainBreak(
            last_id + 1,
            Reason(
                "tail_missing",
                f"日志止于第 {last_id} 条，而链头记录为第 {head_id} 条：末尾记录缺失",
                f"the log ends at #{last_id} but its head records #{head_id}: rows at the end "
                "are missing",
            ),
        )
