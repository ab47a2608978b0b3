"""Load and validate the runbook documents, with every error located like the config's.

Pass 1 is pydantic (shapes, types, unknown keys); pass 2 checks what a schema cannot: step
ids unique, fault types known, a deadline for every level, acknowledge ≤ recover ≤ 24 h,
stricter deadlines for more severe levels, escalation tiers in time order; then across
files: runbook ids unique and every fault type the engine can raise covered exactly once.
Every problem reads ``FILE:LINE key.path: message``, all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from incident_runbooks.model import (
    ArpScan,
    EscalationTier,
    Reprobe,
    Runbook,
    SipOptions,
    SnmpInterfaces,
    Step,
    Traceroute,
)
from noc.core.units import format_duration
from noc.core.validation import duplicate_issues, error_message, first_model, unknown
from noc.core.vocabulary import FAULT_TYPES, LEVEL_NAMES, LEVELS, normalize_level
from noc.core.yamlsource import LocatedData, SourceError, SourceIssue, load_located

RUNBOOK_DIR = Path(__file__).resolve().parent
MAX_RECOVER_SECONDS = 24 * 3600.0  # the contract: manual recovery within 24 h
_ACTIONS = {
    m.model_fields["action"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in (Reprobe, SnmpInterfaces, Traceroute, SipOptions, ArpScan)
}


class RunbookError(SourceError):
    """The runbooks are wrong; ``issues`` lists every problem with file, line and key path."""

    label = "运维方案有误 / runbooks invalid"


@dataclass(frozen=True)
class _Parsed:
    src: LocatedData
    runbook: Runbook | None
    issues: list[SourceIssue]


class RunbookSet:
    """The validated runbooks, and which one handles each fault type."""

    def __init__(self, runbooks: Iterable[Runbook], files: dict[str, str] | None = None):
        self.runbooks: tuple[Runbook, ...] = tuple(runbooks)
        self.files = dict(files or {})  # runbook id → file it came from
        self._by_id = {rb.id: rb for rb in self.runbooks}
        self._by_fault = {t: rb for rb in self.runbooks for t in rb.applies_to}

    def __iter__(self) -> Iterator[Runbook]:
        return iter(self.runbooks)

    def __len__(self) -> int:
        return len(self.runbooks)

    def get(self, runbook_id: str) -> Runbook:
        try:
            return self._by_id[runbook_id]
        except KeyError:
            raise KeyError(f"no runbook {runbook_id!r}") from None

    def for_fault(self, fault_type: str) -> Runbook:
        try:
            return self._by_fault[fault_type]
        except KeyError:
            raise KeyError(f"no runbook covers fault type {fault_type!r}") from None

    def runbook_id_for(self, fault_type: str) -> str | None:
        """For ``IncidentBook(runbook_for=...)``: the runbook id, or None."""
        rb = self._by_fault.get(fault_type)
        return rb.id if rb else None

    def fault_types(self) -> set[str]:
        return set(self._by_fault)

    def receivers(self) -> set[str]:
        """Every escalation receiver named, for the alerting layer to check it defines them."""
        return {tier.notify for rb in self.runbooks for tier in rb.escalation}


# --- pass 1 ------------------------------------------------------------------------------


def _fields_at(path: tuple[Any, ...]) -> list[str]:
    """Field names of the model that owns the last key of ``path`` (for did-you-mean)."""
    current: type[BaseModel] = Runbook
    for part in path[:-1]:
        fields = current.model_fields
        if isinstance(part, str) and part in fields:
            current = first_model(fields[part].annotation) or current
            if part == "automated":
                current = Reprobe
        elif part in _ACTIONS:
            current = _ACTIONS[part]
    return list(current.model_fields)


def _written(src: LocatedData, path: tuple[Any, ...]) -> tuple[Any, ...]:
    """The path as the file writes it: ``deadlines.I`` may be written ``deadlines.P1``."""
    deadlines = src.data.get("deadlines") if isinstance(src.data, dict) else None
    if (
        len(path) >= 2
        and path[0] == "deadlines"
        and isinstance(deadlines, dict)
        and path[1] not in deadlines
    ):
        for key in deadlines:
            if isinstance(key, str) and normalize_level(key) == path[1]:
                return ("deadlines", key, *path[2:])
    return path


def _pydantic_issues(exc: ValidationError, src: LocatedData) -> list[SourceIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        path = src.resolve(_written(src, tuple(err["loc"])))
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, "action")
        if err["type"] == "extra_forbidden" and len(path) >= 2 and path[-2] == "automated":
            data = src.data
            for part in path[:-1]:
                data = data[part] if isinstance(data, dict | list) else None
            action = data.get("action") if isinstance(data, dict) else None
            fields = list(_ACTIONS[action].model_fields) if action in _ACTIONS else []
        else:
            fields = _fields_at(path)
        issues.append(src.issue(path, error_message(err, fields)))
    return issues


# --- pass 2: one runbook -----------------------------------------------------------------


def _runbook_issues(rb: Runbook, src: LocatedData) -> list[SourceIssue]:
    issues: list[SourceIssue] = []
    seen: set[str] = set()
    for i, fault_type in enumerate(rb.applies_to):
        if fault_type not in FAULT_TYPES:
            issues.append(
                src.issue(("applies_to", i), unknown("fault type", fault_type, FAULT_TYPES))
            )
        elif fault_type in seen:
            issues.append(
                src.issue(("applies_to", i), f"fault type {fault_type!r} is listed twice")
            )
        seen.add(fault_type)

    issues.extend(duplicate_issues(src, ("steps",), [s.id for s in rb.steps], "step id", "id"))
    for i, step in enumerate(rb.steps):
        if step.automated is not None and step.intervention:
            issues.append(
                src.issue(
                    ("steps", i, "intervention"),
                    "an automated step only observes; it cannot be an intervention",
                )
            )
        if "when" in step.model_fields_set and step.automated is None:
            issues.append(
                src.issue(
                    ("steps", i, "when"),
                    "is for automated steps (when the service runs them); "
                    "this step has no `automated`",
                )
            )

    issues.extend(_deadline_issues(rb, src))

    for i in range(1, len(rb.escalation)):
        before, tier = rb.escalation[i - 1], rb.escalation[i]
        if tier.after <= before.after:
            issues.append(
                src.issue(
                    ("escalation", i, "after"),
                    f"must be later than the tier before ({format_duration(tier.after)} ≤ "
                    f"{format_duration(before.after)})",
                )
            )
    return issues


def _deadline_issues(rb: Runbook, src: LocatedData) -> list[SourceIssue]:
    issues: list[SourceIssue] = []

    def issue(path: tuple[Any, ...], message: str) -> None:
        issues.append(
            src.issue(_written(src, path), message)
        )  # the level key as written (P1 for I)

    present = [(level, getattr(rb.deadlines, level)) for level in LEVELS]
    for level, deadline in present:
        if deadline is None:
            zh, en = LEVEL_NAMES[level]
            issue(("deadlines",), f"no deadline for level {level} ({zh}/{en})")
            continue
        ack, rec = deadline.acknowledge, deadline.recover
        if ack > rec:
            issue(
                ("deadlines", level, "acknowledge"),
                f"must not be later than recover ({format_duration(ack)} > {format_duration(rec)})",
            )
        if rec > MAX_RECOVER_SECONDS:
            issue(
                ("deadlines", level, "recover"),
                "must be at most 24h (the contract's limit for manual recovery)",
            )
    given = [(lvl, d) for lvl, d in present if d is not None]
    for (level, d), (next_level, nd) in zip(given, given[1:], strict=False):
        for name in ("acknowledge", "recover"):
            mine, theirs = getattr(d, name), getattr(nd, name)
            if mine > theirs:
                issue(
                    ("deadlines", level, name),
                    f"must not be longer than level {next_level}'s, a less severe level "
                    f"({format_duration(mine)} > {format_duration(theirs)})",
                )
    return issues


def _parse(text: str, file: str) -> _Parsed:
    try:
        src = load_located(text, file)
    except SourceError as exc:
        return _Parsed(LocatedData(file, None), None, list(exc.issues))
    if not isinstance(src.data, dict):
        return _Parsed(
            src,
            None,
            [SourceIssue(file, 1, "", "a runbook must be a mapping (id:, title:, steps: …)")],
        )
    try:
        rb = Runbook.model_validate(src.data)
    except ValidationError as exc:
        return _Parsed(src, None, _pydantic_issues(exc, src))
    return _Parsed(src, rb, _runbook_issues(rb, src))


def _read(path: Path) -> _Parsed:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return _Parsed(
            LocatedData(str(path), None),
            None,
            [SourceIssue(str(path), None, "", f"cannot read: {exc.strerror or exc}")],
        )
    return _parse(text, str(path))


# --- pass 2: the set ---------------------------------------------------------------------


def _claimed(parsed: _Parsed) -> list[str]:
    """Fault types a file names, even when it failed pass 1 (so coverage is not reported twice)."""
    if parsed.runbook is not None:
        return list(parsed.runbook.applies_to)
    data = parsed.src.data
    applies = data.get("applies_to") if isinstance(data, dict) else None
    return [t for t in applies if isinstance(t, str)] if isinstance(applies, list) else []


def _set_issues(parsed: Sequence[_Parsed], where: str, complete: bool) -> list[SourceIssue]:
    issues: list[SourceIssue] = []
    first_id: dict[str, _Parsed] = {}
    owner: dict[str, str] = {}
    for p in parsed:
        rb = p.runbook
        if rb is None:
            continue
        if rb.id in first_id:
            other = first_id[rb.id].src
            issues.append(
                p.src.issue(
                    ("id",),
                    f"duplicate runbook id {rb.id!r} (first in "
                    f"{other.file}:{other.line_of(('id',))})",
                )
            )
        first_id.setdefault(rb.id, p)
        for i, fault_type in enumerate(rb.applies_to):
            if fault_type not in FAULT_TYPES or rb.applies_to.index(fault_type) != i:
                continue  # reported by the runbook's own checks
            if fault_type in owner and owner[fault_type] != rb.id:
                issues.append(
                    p.src.issue(
                        ("applies_to", i),
                        f"fault type {fault_type!r} is already covered "
                        f"by runbook {owner[fault_type]!r}",
                    )
                )
            owner.setdefault(fault_type, rb.id)
    if complete:
        claimed = {t for p in parsed for t in _claimed(p)}
        for fault_type in FAULT_TYPES:
            if fault_type not in claimed:
                issues.append(
                    SourceIssue(where, None, "", f"no runbook covers fault type {fault_type!r}")
                )
    return issues


def runbook_files(directory: str | Path | None = None) -> list[Path]:
    return sorted(Path(directory or RUNBOOK_DIR).glob("*.yaml"))


def _collect(
    paths: Sequence[str | Path], where: str, complete: bool
) -> tuple[list[_Parsed], list[SourceIssue]]:
    parsed = [_read(Path(p)) for p in paths]
    issues: list[SourceIssue] = []
    for p in parsed:
        issues.extend(sorted(p.issues, key=lambda i: (i.line or 0, i.path)))
    if not paths:
        issues.append(SourceIssue(where, None, "", "no runbook files (*.yaml)"))
    issues.extend(_set_issues(parsed, where, complete))
    return parsed, issues


def load_runbook_files(
    paths: Sequence[str | Path], *, complete: bool = True, where: str = "<runbooks>"
) -> RunbookSet:
    """Load these files; with ``complete`` every fault type must be covered. Raise RunbookError."""
    parsed, issues = _collect(paths, where, complete)
    if issues:
        raise RunbookError(issues)
    return RunbookSet(
        [p.runbook for p in parsed if p.runbook],
        {p.runbook.id: p.src.file for p in parsed if p.runbook},
    )


def load_runbooks(directory: str | Path | None = None) -> RunbookSet:
    """The runbooks of ``directory`` (default: the shipped ones), all checks passed."""
    where = str(directory or RUNBOOK_DIR)
    return load_runbook_files(runbook_files(directory), where=where)


def check_runbooks(directory: str | Path | None = None) -> list[SourceIssue]:
    """Every problem of the runbooks in ``directory`` (empty when they are good); for ``noc config check``."""
    where = str(directory or RUNBOOK_DIR)
    return _collect(runbook_files(directory), where, complete=True)[1]


__all__ = [
    "RUNBOOK_DIR",
    "EscalationTier",
    "Runbook",
    "RunbookError",
    "RunbookSet",
    "Step",
    "check_runbooks",
    "load_runbook_files",
    "load_runbooks",
    "runbook_files",
]
