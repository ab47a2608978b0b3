"""The audit chain: canonical hashing, and the first broken link for each kind of tampering."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from noc.identity import Actor
from noc.identity.audit import (
    GENESIS,
    PURGE_ACTION,
    AuditEntry,
    ChainVerifier,
    canonical,
    row_hash,
)

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def chain(n: int, start_id: int = 1, prev: str = GENESIS) -> list[dict]:
    rows = []
    for i in range(n):
        fields = {
            "id": start_id + i,
            "at": T0 + dt.timedelta(seconds=i),
            "actor_user": "sue",
            "actor_role": "security",
            "credential": None,
            "channel": "cli",
            "source": "sue@noc1",
            "action": "user.add",
            "target": f"user{i}",
            "outcome": "ok",
            "reason": "",
            "before": None,
            "after": {"role": "operator", "名字": "李明"},
            "prev_hash": prev,
        }
        fields["hash"] = prev = row_hash(fields)
        rows.append(fields)
    return rows


def verify(rows: list[dict], head: tuple[int, str] | None = None):
    v = ChainVerifier()
    for row in rows:
        v.feed(row)
    if head is None:
        head = (rows[-1]["id"], rows[-1]["hash"]) if rows else (0, GENESIS)
    return v.finish(*head)


def test_an_intact_chain_verifies():
    report = verify(chain(5))
    assert report.ok and (report.checked, report.first_id, report.last_id) == (5, 1, 5)
    assert verify([]).ok


def test_canonical_form_is_independent_of_key_order_and_time_zone():
    row = chain(1)[0]
    shuffled = dict(reversed(list(row.items())))
    shuffled["at"] = row["at"].astimezone(ZoneInfo("Asia/Shanghai"))
    assert canonical(shuffled) == canonical(row)
    assert b'"at":"2026-11-30T08:00:00.000000+00:00"' in canonical(row)
    assert "李明".encode() in canonical(row)


def test_a_changed_row_is_reported():
    rows = chain(5)
    rows[2]["target"] = "someone-else"
    report = verify(rows)
    assert report.broken.row_id == 3 and report.broken.reason.code == "changed"


def test_a_changed_row_with_a_recomputed_hash_breaks_the_next_link():
    rows = chain(5)
    rows[2]["outcome"] = "refused"
    rows[2]["hash"] = row_hash(rows[2])
    report = verify(rows, head=(5, rows[4]["hash"]))
    assert report.broken.row_id == 4 and report.broken.reason.code == "unlinked"


def test_a_removed_row_is_reported():
    rows = chain(5)
    del rows[2]
    report = verify(rows)
    assert report.broken.row_id == 4 and report.broken.reason.code == "missing"
    assert "#3–#3" in report.broken.reason.en


def test_rows_removed_from_the_end_are_caught_by_the_head():
    rows = chain(5)
    report = verify(rows[:3], head=(5, rows[4]["hash"]))
    assert report.broken.row_id == 4 and report.broken.reason.code == "tail_missing"
    assert not verify([], head=(5, rows[4]["hash"])).ok


def test_rows_removed_from_the_start_need_a_purge_row():
    rows = chain(5)
    report = verify(rows[2:])
    assert report.broken.row_id == 3 and report.broken.reason.code == "head_missing"


def test_after_a_purge_verification_starts_at_the_first_retained_row():
    rows = chain(5)
    purge = {
        **rows[4],
        "id": 6,
        "action": PURGE_ACTION,
        "target": "audit_log",
        "after": {"deleted": 2, "through_id": 2, "through_hash": rows[1]["hash"]},
        "prev_hash": rows[4]["hash"],
    }
    purge["hash"] = row_hash(purge)
    assert verify([*rows[2:], purge]).ok
    wrong = {**purge, "after": {"deleted": 1, "through_id": 1, "through_hash": rows[0]["hash"]}}
    wrong["hash"] = row_hash(wrong)
    assert verify([*rows[2:], wrong]).broken.reason.code == "head_missing"


def test_entries_are_checked_and_built_from_the_actor():
    who = Actor("sue", "security", "api", "192.0.2.7", credential="session:4")
    entry = AuditEntry.by(who, "user.role", "bob", before={"role": "viewer"})
    assert (entry.actor_user, entry.actor_role, entry.credential, entry.source) == (
        "sue",
        "security",
        "session:4",
        "192.0.2.7",
    )
    with pytest.raises(ValueError):
        AuditEntry(action="x", channel="web", source="-")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        AuditEntry(action="x", channel="api", source="-", outcome="maybe")  # type: ignore[arg-type]
