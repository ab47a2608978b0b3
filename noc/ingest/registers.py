"""The KPI registers on their way in: staff spells, report submissions, emergencies.

One validation path for every way in — ``noc staff|emergency add``, ``noc report submit``, the
CSV/XLSX imports and ``POST /api/v1/staff|emergencies|report-submissions`` — so a value gets the
same answer everywhere (docs/kpi.md, indicators 7–9). ``validate(kind, raw, tz, now)`` takes a
mapping of field names to raw values (JSON values, CSV strings, XLSX cells) and returns the
record, or raises :class:`~noc.ingest.records.RecordInvalid` naming every wrong field.

Each register has a **natural key** (:data:`KEYS`): registering a record whose key is already
there changes the stored one (or nothing, when it says the same), so importing a file twice
changes nothing and a later file can fill in what was not known yet (a last working day, when
the support arrangements were adjusted). As for calls and tickets, ``None`` means *not
stated*: a repeat that leaves a field out (an empty cell, a missing column, a flag not given)
keeps the stored value; a new row takes the default (:data:`DEFAULTS`). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from noc.ingest import fields as f
from noc.ingest.records import FieldError, FieldReader, RecordInvalid

KINDS: tuple[str, ...] = ("staff", "submissions", "emergencies")

EMERGENCY_KINDS = f.Vocabulary(
    {
        "typhoon": "台风",
        "power_cut": "停电",
        "call_surge": "话务激增",
        "network": "网络故障",
        "other": "其他",
    }
)

_PERIOD_RE = re.compile(r"^\d{4}-(?:\d{2}|W\d{2}|\d{2}-\d{2})$")


@dataclass(frozen=True)
class StaffRecord:
    """One person on one post from ``start`` to ``end`` (the last working day, inclusive)."""

    person: str
    post: str
    start: dt.date
    end: dt.date | None = None
    note: str | None = None


@dataclass(frozen=True)
class SubmissionRecord:
    """A due report (or data) handed in: which, for which period, when, and whether it corrects
    an earlier submission (不准确)."""

    kind: str
    period: str
    submitted_at: dt.datetime
    due_at: dt.datetime | None = None
    corrected: bool | None = None
    note: str | None = None


@dataclass(frozen=True)
class EmergencyRecord:
    """An emergency (typhoon, power cut, call surge …) and when the support arrangements were
    adjusted to it (``responded_at``)."""

    kind: str
    started_at: dt.datetime
    title: str | None = None
    responded_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    force_majeure: bool | None = None


Record = StaffRecord | SubmissionRecord | EmergencyRecord

FIELDS: dict[str, tuple[str, ...]] = {
    "staff": ("person", "post", "start", "end", "note"),
    "submissions": ("kind", "period", "submitted_at", "due_at", "corrected", "note"),
    "emergencies": (
        "kind",
        "title",
        "started_at",
        "responded_at",
        "ended_at",
        "force_majeure",
    ),
}
"""The fields of each register, as the CSV header and the JSON body name them."""

KEYS: dict[str, tuple[str, ...]] = {
    "staff": ("person", "post", "start"),
    "submissions": ("kind", "period", "submitted_at"),
    "emergencies": ("kind", "started_at"),
}
"""The natural key of each register: one stored row per key."""

DEFAULTS: dict[str, dict[str, Any]] = {
    "staff": {},
    "submissions": {"corrected": False},
    "emergencies": {"title": "", "force_majeure": False},
}
"""What a new row stores for a field its record leaves unstated (``None``)."""


def _not_before(r: FieldReader, later: str, later_value, earlier: str, earlier_value) -> None:  # noqa: ANN001
    if later_value is not None and earlier_value is not None and later_value < earlier_value:
        r.fail(later, f"is before {earlier}")


def _period(value: Any) -> str | None:
    text = f.text(value, 32)
    if text is not None and not _PERIOD_RE.match(text):
        raise f.Invalid(f"cannot read period {text!r}; use 2026-10 (month), 2026-W44 or 2026-10-05")
    return text


def validate_staff(raw: Mapping[str, Any], tz: ZoneInfo, now: dt.datetime) -> StaffRecord:
    r = FieldReader(raw, FIELDS["staff"], check_unknown=True)
    values = {
        "person": r.get("person", f.text, 63, required=True),
        "post": r.get("post", f.text, 32, required=True),
        "start": r.get("start", f.date, required=True),
        "end": r.get("end", f.date),
        "note": r.get("note", f.text, 2000),
    }
    _not_before(r, "end", values["end"], "start", values["start"])
    r.done()
    return StaffRecord(**values)


def validate_submission(
    raw: Mapping[str, Any], tz: ZoneInfo, now: dt.datetime | None
) -> SubmissionRecord:
    """``now`` fills a missing ``submitted_at`` (a submission registered as it goes in); None
    makes it required (a file states when each one went in, so importing it again is a repeat)."""
    r = FieldReader(raw, FIELDS["submissions"], check_unknown=True)
    values = {
        "kind": r.get("kind", f.identifier, 32) or "monthly",
        "period": r.get("period", _period, required=True),
        "submitted_at": r.get("submitted_at", f.instant, tz, required=now is None) or now,
        "due_at": r.get("due_at", f.instant, tz),
        "corrected": r.get("corrected", f.boolean),
        "note": r.get("note", f.text, 2000),
    }
    r.done()
    return SubmissionRecord(**values)


def validate_emergency(
    raw: Mapping[str, Any], tz: ZoneInfo, now: dt.datetime | None = None
) -> EmergencyRecord:
    r = FieldReader(raw, FIELDS["emergencies"], check_unknown=True)
    values = {
        "kind": r.get("kind", EMERGENCY_KINDS.parse, required=True),
        "title": r.get("title", f.text, 200),
        "started_at": r.get("started_at", f.instant, tz, required=True),
        "responded_at": r.get("responded_at", f.instant, tz),
        "ended_at": r.get("ended_at", f.instant, tz),
        "force_majeure": r.get("force_majeure", f.boolean),
    }
    _not_before(r, "responded_at", values["responded_at"], "started_at", values["started_at"])
    _not_before(r, "ended_at", values["ended_at"], "started_at", values["started_at"])
    r.done()
    return EmergencyRecord(**values)


VALIDATORS = {
    "staff": validate_staff,
    "submissions": validate_submission,
    "emergencies": validate_emergency,
}


def validate(kind: str, raw: Mapping[str, Any], tz: ZoneInfo, now: dt.datetime | None) -> Record:
    """The record of register ``kind`` from ``raw`` (see the module)."""
    if not isinstance(raw, Mapping):
        raise RecordInvalid([FieldError("", "must be a JSON object")])
    return VALIDATORS[kind](raw, tz, now)


def values_of(record: Record) -> dict[str, Any]:
    """The record's fields by name (what the store writes)."""
    return asdict(record)


__all__ = [
    "DEFAULTS",
    "EMERGENCY_KINDS",
    "FIELDS",
    "KEYS",
    "KINDS",
    "EmergencyRecord",
    "Record",
    "StaffRecord",
    "SubmissionRecord",
    "validate",
    "values_of",
]
