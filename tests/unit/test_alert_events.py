"""Stored incident + timeline event → ``AlertEvent``: what each kind tells, on the Lingshui site.

Rows are the store's own row classes used as plain objects (no database): the mapping is pure.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

from alerting.events import ALERT_KINDS, alert_event, told
from incident_runbooks.loader import load_runbooks
from noc.store.tables import Incident, IncidentEvent

T0 = dt.datetime(2026, 11, 29, 2, 0, 0, tzinfo=dt.UTC)
DETECTED = T0 + dt.timedelta(seconds=5)
VOICE_TITLE = {"zh": "市民来电受理", "en": "Citizen voice intake"}
CIRCUIT_TITLE = {
    "zh": "MSTP语音专线(省12345语音网关)",
    "en": "MSTP voice circuit to the provincial voice gateway",
}
IMPACT = {
    "impact": "total",
    "fault_class": "outage",
    "members": ["mstp-voice", "ce-router"],
    "services": [{"service": "voice-intake"}, {"service": "not-configured"}],
    "symptoms": [
        {"fault": "sip_trunk_error:voice-gw", "asset": "voice-gw", "type": "sip_trunk_error"},
        {"fault": "phone_unreachable:phone-01", "asset": "phone-01", "type": "phone_unreachable"},
    ],
}


@functools.cache
def runbooks():
    return load_runbooks()


def incident(**over: Any) -> Incident:
    values: dict[str, Any] = {
        "id": 7,
        "site": "lingshui",
        "fault_key": "circuit_down:mstp-voice",
        "fault_type": "circuit_down",
        "root_asset": "mstp-voice",
        "severity": "I",
        "peak_severity": "I",
        "status": "open",
        "fault_started_at": T0,
        "detected_at": DETECTED,
        "recovery_kind": None,
        "close_note": None,
        "impact": IMPACT,
    }
    values.update(over)
    return Incident(**values)


def event(kind: str, data: dict[str, Any] | None = None, **over: Any) -> IncidentEvent:
    values: dict[str, Any] = {
        "id": 100,
        "incident_id": 7,
        "seq": 4,
        "kind": kind,
        "at": T0 + dt.timedelta(seconds=600),
        "actor": None,
        "data": data or {},
    }
    values.update(over)
    return IncidentEvent(**values)


# kind, event data, event overrides, incident overrides, expected severity, context expected
# (``None`` as a value: the key must be absent)
CASES = [
    pytest.param(
        "opened",
        {"evidence": {"check": "icmp", "reason": "timeout"}},
        {},
        {},
        "I",
        {"evidence": {"check": "icmp", "reason": "timeout"}, "from": None, "note": None},
        id="opened-with-evidence",
    ),
    pytest.param(
        "opened", {}, {}, {}, "I", {"evidence": ""}, id="opened-without-evidence-says-empty"
    ),
    pytest.param(
        "regraded",
        {"from": "II", "to": "I"},
        {},
        {"severity": "II"},  # the row may lag: the event's target level is what is told
        "I",
        {"from": "II", "evidence": None},
        id="regraded-tells-the-new-level",
    ),
    pytest.param(
        "escalated",
        {"notify": "duty-manager", "title": {"zh": "15分钟未恢复", "en": "not recovered"}},
        {"actor": "noc"},
        {},
        "I",
        {
            "escalate_to": "duty-manager",
            "escalation_title": {"zh": "15分钟未恢复", "en": "not recovered"},
        },
        id="escalated",
    ),
    pytest.param(
        "escalated",
        {"notify": "duty-manager"},
        {},
        {},
        "I",
        {"escalate_to": "duty-manager", "escalation_title": ""},
        id="escalated-without-title",
    ),
    pytest.param(
        "acknowledged",
        {"note": "on it"},
        {"actor": "zhang"},
        {"status": "acknowledged"},
        "I",
        {"acknowledged_by": "zhang", "note": "on it"},
        id="acknowledged-with-note",
    ),
    pytest.param(
        "acknowledged",
        {"note": ""},
        {},
        {"status": "acknowledged"},
        "I",
        {"acknowledged_by": "", "note": None},
        id="acknowledged-by-nobody-named-without-note",
    ),
    pytest.param(
        "recovered",
        {"recovery_kind": "manual", "duration_seconds": 42.5},
        {},
        {"status": "recovered", "recovery_kind": "automatic"},
        "I",
        {"recovery_kind": "manual", "duration_seconds": 42.5},
        id="recovered-as-the-event-says",
    ),
    pytest.param(
        "recovered",
        {},
        {},
        {"status": "recovered", "recovery_kind": "manual"},
        "I",
        {"recovery_kind": "manual", "duration_seconds": 600.0},  # event.at - fault start
        id="recovered-kind-from-the-row-duration-computed",
    ),
    pytest.param(
        "recovered",
        {},
        {},
        {"status": "recovered"},
        "I",
        {"recovery_kind": "automatic", "duration_seconds": 600.0, "flapping": None},
        id="recovered-automatic-by-default",
    ),
    pytest.param(
        "recovered",
        {"duration_seconds": 600.0, "flapping": {"outages": 3, "minutes": 10, "down_seconds": 27}},
        {},
        {"status": "recovered"},
        "I",
        {
            "recovery_kind": "automatic",
            "duration_seconds": 600.0,
            "flapping": {"outages": 3, "minutes": 10, "down_seconds": 27},
        },
        id="recovered-after-flapping-says-how-long-really-down",
    ),
    pytest.param(
        "closed",
        {"note": "fibre cut, repaired"},
        {"actor": "li"},
        {"status": "closed"},
        "I",
        {"note": "fibre cut, repaired", "acknowledged_by": None},
        id="closed-with-note",
    ),
    pytest.param("closed", {}, {}, {"status": "closed"}, "I", {"note": None}, id="closed-bare"),
]


@pytest.mark.parametrize(("kind", "data", "event_over", "incident_over", "severity", "ctx"), CASES)
def test_each_kind_maps_to_its_alert(
    lingshui_config, kind, data, event_over, incident_over, severity, ctx
):
    inc, ev = incident(**incident_over), event(kind, data, **event_over)
    assert told(inc, ev)
    alert = alert_event(inc, ev, lingshui_config, runbooks())
    assert alert.incident_id == 7 and alert.seq == 4
    assert alert.kind == ALERT_KINDS[kind] == kind
    assert alert.at == ev.at.timestamp()
    assert alert.severity == severity
    assert alert.labels == {
        "site": "lingshui",
        "asset": "mstp-voice",
        "asset_kind": "mstp_circuit",
        "fault_type": "circuit_down",
        "severity": severity,
        "services": "not-configured,voice-intake",
    }
    # root first, then members, then symptom assets; each once
    assert alert.assets == ("mstp-voice", "ce-router", "voice-gw", "phone-01")
    # what every kind carries
    assert alert.context["fault_type"] == "circuit_down"
    assert alert.context["asset"] == "mstp-voice"
    assert alert.context["asset_title"] == CIRCUIT_TITLE
    assert alert.context["services"] == [
        {"service": "voice-intake", "title": VOICE_TITLE},
        {"service": "not-configured", "title": "not-configured"},
    ]
    assert alert.context["symptoms"] == [
        {"asset": "voice-gw", "type": "sip_trunk_error"},
        {"asset": "phone-01", "type": "phone_unreachable"},
    ]
    assert alert.context["members"] == ["mstp-voice", "ce-router"]
    assert alert.context["detected_at"] == DETECTED.timestamp()
    assert alert.context["fault_started_at"] == T0.timestamp()
    rb = runbooks().for_fault("circuit_down")
    assert alert.context["runbook"] == {
        "title": rb.title,
        "steps": [s.title for s in rb.steps[:3]],
    }
    for key, value in ctx.items():
        if value is None:
            assert key not in alert.context, key
        else:
            assert alert.context[key] == value, key


def test_an_asset_outside_the_inventory_reads_as_a_phone_under_its_own_name(lingshui_config):
    inc = incident(
        root_asset="phone-99",
        fault_type="phone_unreachable",
        severity="IV",
        impact={"members": ["phone-99"], "services": [], "symptoms": []},
    )
    alert = alert_event(inc, event("opened"), lingshui_config, runbooks())
    assert alert.labels["asset_kind"] == "phone"
    assert alert.labels["services"] == ""
    assert alert.context["asset_title"] == "phone-99"
    assert alert.assets == ("phone-99",)  # a member, not the (unknown) root


def test_no_runbook_context_for_a_fault_type_no_runbook_covers(lingshui_config):
    alert = alert_event(
        incident(fault_type="not_a_fault", impact={}), event("opened"), lingshui_config, runbooks()
    )
    assert "runbook" not in alert.context
    assert alert.assets == ("mstp-voice",)
    assert alert.context["services"] == [] and alert.context["members"] == []


@pytest.mark.parametrize(
    ("inc", "ev", "expected"),
    [
        pytest.param(incident(), event("opened"), True, id="opened"),
        pytest.param(incident(), event("graded"), False, id="graded-is-not-told"),
        pytest.param(incident(), event("step_done"), False, id="step-done-is-not-told"),
        pytest.param(incident(), event("alarmed"), False, id="alarmed-is-not-told"),
        pytest.param(None, event("opened"), False, id="no-incident-row"),
        pytest.param(
            incident(status="closed", close_note="merged into 3"),
            event("recovered"),
            False,
            id="merged-is-told-with-its-parent",
        ),
        pytest.param(
            incident(status="closed", close_note="cable merged into the duct"),
            event("closed"),
            True,
            id="a-note-only-mentioning-merged",
        ),
    ],
)
def test_which_events_are_told(inc, ev, expected):
    assert told(inc, ev) is expected
