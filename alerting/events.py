"""From the timeline to alerting: one stored incident event → the ``AlertEvent`` routing takes.

Pure: the incident row and its event (plain attribute objects, as the store returns them),
the inventory (asset kind and title, service titles) and the runbooks (title and first
steps) in; labels for routing, the template context and the assets muting looks at out.
The pipeline only fetches rows and hands them here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from alerting.model import AlertEvent

if TYPE_CHECKING:
    from incident_runbooks.loader import RunbookSet
    from noc.config import NocConfig
    from noc.store.tables import Incident, IncidentEvent

# timeline kinds that are told to people, and as what
ALERT_KINDS = {
    "opened": "opened",
    "regraded": "regraded",
    "escalated": "escalated",
    "acknowledged": "acknowledged",
    "recovered": "recovered",
    "closed": "closed",
}
RUNBOOK_STEPS_TOLD = 3


def _epoch(value: dt.datetime | None) -> float | None:
    return value.timestamp() if value else None


def told(incident: Incident | None, event: IncidentEvent) -> bool:
    """Whether the event is told at all: a kind people hear of, of an incident not merged into
    another (a merged incident is told as part of its parent)."""
    if event.kind not in ALERT_KINDS or incident is None:
        return False
    return not (incident.close_note and incident.close_note.startswith("merged into"))


def alert_event(
    incident: Incident, event: IncidentEvent, config: NocConfig, runbooks: RunbookSet
) -> AlertEvent:
    """The alert for one timeline event of ``incident`` (the caller checks :func:`told`)."""
    impact = incident.impact or {}
    root = incident.root_asset
    asset = config.assets_by_name.get(root)
    members = list(impact.get("members", []))
    symptoms = impact.get("symptoms", [])
    assets = tuple(
        dict.fromkeys(([root] if asset else []) + members + [s["asset"] for s in symptoms])
    )
    services = impact.get("services", [])
    titles = {s.name: s.title for s in config.services}
    severity = event.data.get("to") if event.kind == "regraded" else incident.severity
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
    if incident.fault_type in runbooks.fault_types():
        rb = runbooks.for_fault(incident.fault_type)
        context["runbook"] = {
            "title": rb.title,
            "steps": [s.title for s in rb.first_steps(RUNBOOK_STEPS_TOLD)],
        }
    data = event.data or {}
    if event.kind == "opened":
        context["evidence"] = data.get("evidence") or ""
    elif event.kind == "regraded":
        context["from"] = data.get("from")
    elif event.kind == "escalated":
        context["escalate_to"] = data.get("notify")
        context["escalation_title"] = data.get("title") or ""
    elif event.kind == "acknowledged":
        context["acknowledged_by"] = event.actor or ""
        if data.get("note"):
            context["note"] = data["note"]
    elif event.kind == "recovered":
        context["recovery_kind"] = (
            data.get("recovery_kind") or incident.recovery_kind or "automatic"
        )
        context["duration_seconds"] = (
            data.get("duration_seconds") or (event.at - incident.fault_started_at).total_seconds()
        )
        if data.get("flapping"):  # held open by flapping: outages, minutes, really down
            context["flapping"] = data["flapping"]
    elif event.kind == "closed" and data.get("note"):
        context["note"] = data["note"]
    return AlertEvent(
        incident_id=incident.id,
        kind=ALERT_KINDS[event.kind],
        at=event.at.timestamp(),
        severity=severity,
        labels=labels,
        context=context,
        seq=event.seq,
        assets=assets,
    )
