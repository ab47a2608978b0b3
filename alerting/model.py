"""What alerting receives from the engine, and what it hands to delivery.

``AlertEvent`` is one thing worth telling the NOC about an incident (opened, re-graded,
escalated, re-notified, acknowledged, recovered, closed). Routing matches its ``labels``;
templates render its ``context``. ``Message`` is one rendered notification for one receiver,
written to the outbox (the ``notifications`` table) before anything is sent; its ``dedup_key``
makes a restart unable to send it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EVENT_KINDS = ("opened", "regraded", "escalated", "renotify", "acknowledged", "recovered", "closed")


@dataclass(frozen=True)
class AlertEvent:
    incident_id: int
    kind: str  # one of EVENT_KINDS
    at: float  # epoch seconds, UTC
    severity: str  # I … IV (current)
    labels: Mapping[
        str, str
    ]  # site, asset, asset_kind, fault_type, severity, services (comma-joined)
    context: Mapping[str, Any] = field(default_factory=dict)  # for templates
    seq: int = 0  # the incident event's sequence number (dedup: one message per event per receiver)
    assets: tuple[
        str, ...
    ] = ()  # every asset involved (root, members, symptom assets): muting, asset matcher


@dataclass(frozen=True)
class Message:
    receiver: str
    dedup_key: str
    incident_id: int | None
    event_kind: str
    severity: str | None
    title: str
    body: str
    locale: str = "zh-CN"
