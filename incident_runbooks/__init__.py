"""Fault runbooks (故障运维方案): one YAML document per fault-type family, their strict
loader, and the automated steps the service runs itself. See docs/runbooks.md."""

from incident_runbooks.loader import (
    RUNBOOK_DIR,
    RunbookError,
    RunbookSet,
    check_runbooks,
    load_runbook_files,
    load_runbooks,
)
from incident_runbooks.model import Deadline, EscalationTier, Runbook, Step, level_label

__all__ = [
    "RUNBOOK_DIR",
    "Deadline",
    "EscalationTier",
    "Runbook",
    "RunbookError",
    "RunbookSet",
    "Step",
    "check_runbooks",
    "level_label",
    "load_runbook_files",
    "load_runbooks",
]
