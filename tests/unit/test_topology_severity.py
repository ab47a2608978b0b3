"""Topology, severity matrix and the incident book on the shipped Lingshui inventory."""

from __future__ import annotations

import pytest

from noc.core.vocabulary import normalize_level
from noc.engine.faults import Fault
from noc.engine.incidents import IncidentBook, ServiceSpec
from noc.engine.severity import SeverityMatrix
from noc.engine.topology import Topology


@pytest.fixture(scope="module")
def topo(lingshui_config):
    return Topology.from_config(lingshui_config)


@pytest.fixture
def book(lingshui_config, topo):
    services = {s.name: ServiceSpec(s.impact, tuple(s.partial)) for s in lingshui_config.services}
    kinds = {a.name: a.kind for a in lingshui_config.assets}
    return IncidentBook(
        topo, services, lingshui_config.severity, "lingshui", kinds, runbook_for=lambda t: f"rb-{t}"
    )


def test_ancestors_nearest_first(topo):
    assert topo.ancestors("phone-01") == ["voice-gw"]
    assert topo.ancestors("mstp-voice") == ["ce-router"]
    assert topo.ancestors("voice-gw", "trunk") == ["mstp-voice", "ce-router"]
    assert topo.ancestors("voice-gw", "sip") == []


@pytest.mark.parametrize(
    ("asset", "check", "faulty", "root"),
    [
        ("voice-gw", "trunk", {"mstp-voice"}, "mstp-voice"),
        ("voice-gw", "trunk", {"mstp-voice", "ce-router"}, "ce-router"),
        ("voice-gw", "sip", {"mstp-voice"}, None),  # the gateway itself does not need the circuit
        ("phone-03", "sip", {"voice-gw"}, "voice-gw"),
        ("mstp-ticket", "icmp", {"mstp-voice"}, None),
    ],
)
def test_root_cause(topo, asset, check, faulty, root):
    assert topo.root_cause(asset, check, faulty) == root


def test_redundant_group_is_impaired_only_when_all_are_down(topo):
    phones = [f"phone-{i:02d}" for i in range(1, 20)]
    [partial] = topo.impaired_services(phones[:3])
    assert (partial.service, partial.full, partial.group_down, partial.group_size) == (
        "staff-phones",
        False,
        3,
        19,
    )
    [full] = topo.impaired_services(phones)
    assert full.full


def test_gateway_down_takes_the_phones_service_with_it(topo):
    assert {i.service: i.full for i in topo.impaired_services(["voice-gw"])} == {
        "voice-intake": True,
        "staff-phones": True,
    }


@pytest.mark.parametrize(("value", "level"), [("P1", "I"), ("p3", "III"), (2, "II"), ("IV", "IV")])
def test_level_aliases(value, level):
    assert normalize_level(value) == level


def fault(type_, asset, check="icmp", cls="outage", at=100.0, **metrics):
    return Fault(type_, asset, check, cls, at, "timeout", metrics)


def kinds(changes):
    return [(c.kind, c.key) for c in changes]


@pytest.mark.parametrize(
    ("faults", "key", "level"),
    [
        ([fault("circuit_down", "mstp-voice")], "circuit_down:mstp-voice", "I"),
        ([fault("gateway_unreachable", "voice-gw", "sip")], "gateway_unreachable:voice-gw", "I"),
        ([fault("circuit_down", "mstp-ticket")], "circuit_down:mstp-ticket", "II"),
        (
            [fault("circuit_degraded", "mstp-voice", cls="degraded", loss_ratio=0.08)],
            "circuit_degraded:mstp-voice",
            "II",
        ),
        ([fault("internet_down", "internet")], "internet_down:internet", "III"),
        (
            [fault("internet_degraded", "internet", cls="degraded")],
            "internet_degraded:internet",
            "III",
        ),
        (
            [fault("circuit_congested", "mstp-voice", "snmp", cls="congested")],
            "circuit_congested:mstp-voice",
            "III",
        ),
        ([fault("phone_unreachable", "phone-01", "sip")], "phones_unreachable:lingshui", "IV"),
        (
            [fault("phone_unreachable", f"phone-{i:02d}", "sip") for i in (1, 2, 3)],
            "phones_unreachable:lingshui",
            "III",
        ),
        (
            [fault("phone_unreachable", f"phone-{i:02d}", "sip") for i in range(1, 11)],
            "phones_unreachable:lingshui",
            "II",
        ),
        (
            [fault("snmp_agent_lost", "ce-router", "snmp", cls="minor")],
            "snmp_agent_lost:ce-router",
            "IV",
        ),
    ],
)
def test_default_grading(book, faults, key, level):
    changes = book.reconcile(faults, now=101.0)
    opened = [c for c in changes if c.kind == "opened"]
    assert [c.key for c in opened] == [key]
    assert opened[0].data["severity"] == level
    assert book.active[key].fault_started_at == 100.0 and book.active[key].detected_at == 101.0


def test_voice_circuit_down_is_one_incident_with_symptoms(book):
    faults = [
        fault("circuit_down", "mstp-voice"),
        fault("sip_trunk_error", "voice-gw", "trunk", at=101.0),
    ]
    changes = book.reconcile(faults, now=102.0)
    assert kinds(changes) == [
        ("opened", "circuit_down:mstp-voice"),
        ("symptom_attached", "circuit_down:mstp-voice"),
    ]
    assert changes[0].data["severity"] == "I" and changes[0].data["runbook"] == "rb-circuit_down"
    assert changes[1].data["fault"] == "sip_trunk_error:voice-gw"
    # restore: one recovery, the symptom detached with it
    changes = book.reconcile([], now=130.0)
    assert kinds(changes) == [
        ("symptom_detached", "circuit_down:mstp-voice"),
        ("recovered", "circuit_down:mstp-voice"),
    ]
    assert changes[-1].data == {"recovery_kind": "automatic", "duration_seconds": 30.0, "id": None}


def test_a_symptom_seen_first_is_merged_into_the_root(book):
    book.reconcile([fault("sip_trunk_error", "voice-gw", "trunk", at=99.0)], now=99.5)
    assert list(book.active) == ["sip_trunk_error:voice-gw"]
    changes = book.reconcile(
        [
            fault("sip_trunk_error", "voice-gw", "trunk", at=99.0),
            fault("circuit_down", "mstp-voice", at=100.0),
        ],
        now=101.0,
    )
    assert kinds(changes) == [
        ("merged", "sip_trunk_error:voice-gw"),
        ("opened", "circuit_down:mstp-voice"),
        ("symptom_attached", "circuit_down:mstp-voice"),
    ]
    assert list(book.active) == ["circuit_down:mstp-voice"]


def test_ce_router_down_explains_everything_behind_it(book):
    faults = [
        fault("router_down", "ce-router"),
        fault("circuit_down", "mstp-voice"),
        fault("circuit_down", "mstp-ticket"),
        fault("internet_down", "internet"),
        fault("sip_trunk_error", "voice-gw", "trunk"),
    ]
    changes = book.reconcile(faults, now=101.0)
    assert [c.kind for c in changes] == ["opened"] + ["symptom_attached"] * 4
    assert changes[0].data["severity"] == "I"  # via the voice circuit it takes down


def test_phone_group_regrades_and_keeps_its_peak(book):
    phones = [fault("phone_unreachable", f"phone-{i:02d}", "sip") for i in range(1, 11)]
    book.reconcile(phones[:1], now=101.0)
    changes = book.reconcile(phones[:3], now=102.0)
    assert kinds(changes) == [
        ("members_changed", "phones_unreachable:lingshui"),
        ("regraded", "phones_unreachable:lingshui"),
    ]
    assert (changes[1].data["from"], changes[1].data["to"]) == ("IV", "III")
    changes = book.reconcile(phones, now=103.0)
    assert changes[-1].data["to"] == "II"
    changes = book.reconcile(phones[:2], now=104.0)
    assert changes[-1].data["to"] == "IV" and changes[-1].data["peak"] == "II"


def test_gateway_down_attaches_the_phones(book):
    faults = [fault("gateway_unreachable", "voice-gw", "sip")] + [
        fault("phone_unreachable", f"phone-{i:02d}", "sip", at=120.0) for i in range(1, 20)
    ]
    changes = book.reconcile(faults, now=121.0)
    assert [c.kind for c in changes] == ["opened"] + ["symptom_attached"] * 19
    assert list(book.active) == ["gateway_unreachable:voice-gw"]


def test_symptoms_that_outlive_the_root_get_their_own_incident_after_a_grace(book):
    phone = fault("phone_unreachable", "phone-05", "sip")
    book.reconcile([fault("gateway_unreachable", "voice-gw", "sip"), phone], now=101.0)
    changes = book.reconcile([phone], now=150.0)
    assert kinds(changes) == [
        ("symptom_detached", "gateway_unreachable:voice-gw"),
        ("recovered", "gateway_unreachable:voice-gw"),
    ]
    assert book.waiting
    assert book.reconcile([phone], now=155.0) == []  # within the 10 s grace
    changes = book.reconcile([phone], now=160.0)
    assert kinds(changes) == [("opened", "phones_unreachable:lingshui")]
    assert book.active["phones_unreachable:lingshui"].fault_started_at == 100.0
    assert not book.waiting


def test_a_lagging_symptom_that_recovers_within_the_grace_opens_nothing(book):
    trunk = fault("sip_trunk_error", "voice-gw", "trunk")
    book.reconcile([fault("circuit_down", "mstp-voice"), trunk], now=101.0)
    assert kinds(book.reconcile([trunk], now=130.0)) == [
        ("symptom_detached", "circuit_down:mstp-voice"),
        ("recovered", "circuit_down:mstp-voice"),
    ]
    assert book.reconcile([], now=133.0) == []
    assert book.active == {} and not book.waiting


def test_intervention_makes_the_recovery_manual(book):
    book.reconcile([fault("circuit_down", "mstp-ticket")], now=101.0)
    book.record_intervention("circuit_down:mstp-ticket")
    [recovered] = book.reconcile([], now=4000.0)
    assert recovered.data["recovery_kind"] == "manual"


def test_a_flapping_fault_is_held_open(book):
    flappy = Fault(
        "phone_unreachable", "phone-02", "sip", "outage", 100.0, "timeout", {}, flapping=True
    )
    assert [c.kind for c in book.reconcile([flappy], now=101.0)] == ["opened"]
    assert book.reconcile([], now=102.0) == []  # health says UP, but it flaps: held
    assert book.reconcile([flappy], now=103.0) == []  # down again: same incident, nothing new
    book.release_flapping("phone-02", "sip")
    assert [c.kind for c in book.reconcile([], now=140.0)] == ["recovered"]


def test_matrix_is_configurable():
    matrix = SeverityMatrix.model_validate(
        {
            "degraded": {
                "critical": "P1",
                "major": "II",
                "moderate": "III",
                "minor": "IV",
                "none": "IV",
            }
        }
    )
    assert matrix.level("degraded", "critical") == "I"
    assert matrix.level("outage", "critical") == "I"


# -- issue 11 (9f): a symptom on one check impairs only the services that need that check ----------


@pytest.mark.parametrize(
    ("service", "asset", "check", "needs"),
    [
        ("voice-intake", "voice-gw", "trunk", True),  # needs the gateway and the voice circuit
        ("staff-phones", "voice-gw", "trunk", False),  # the trunk runs over a circuit it never uses
        ("staff-phones", "voice-gw", "sip", True),  # the gateway's own SIP: every user of it
        ("ticket-exchange", "voice-gw", "trunk", False),  # does not need the gateway at all
    ],
)
def test_which_services_need_a_check(topo, service, asset, check, needs):
    assert topo.needs_check(service, asset, check) is needs


def services_of(change) -> set[str]:
    return {s["service"] for s in change.data["services"]}


def test_a_trunk_symptom_does_not_charge_the_phones_for_a_ce_router_outage(book):
    # the CE router dies: every circuit and the gateway's trunk behind it; the gateway itself
    # (and the office phones on it) still answers
    faults = [
        fault("router_down", "ce-router"),
        fault("circuit_down", "mstp-voice"),
        fault("circuit_down", "mstp-ticket"),
        fault("internet_down", "internet"),
        fault("sip_trunk_error", "voice-gw", "trunk"),
    ]
    opened = book.reconcile(faults, now=101.0)[0]
    # was {voice-intake, ticket-exchange, internet-channels, staff-phones}: the trunk marked the
    # whole gateway down, so staff-phones was charged for a CE-router outage
    assert services_of(opened) == {"voice-intake", "ticket-exchange", "internet-channels"}


def test_a_trunk_alone_impairs_voice_intake_only(book):
    [opened] = book.reconcile([fault("sip_trunk_error", "voice-gw", "trunk")], now=101.0)
    assert services_of(opened) == {"voice-intake"}
    assert opened.data["severity"] == "I"  # outage × critical (citizen voice intake)
    # the gateway itself unreachable still takes both services that need it
    changes = book.reconcile([fault("gateway_unreachable", "voice-gw", "sip")], now=102.0)
    [gw] = [c for c in changes if c.kind == "opened"]
    assert services_of(gw) == {"voice-intake", "staff-phones"}


# -- issue 11 (10): flapping holds the incident open, the book measures the outages -------------


def test_a_flapping_incident_recovers_saying_how_long_it_was_really_down(book):
    def down(at):
        return Fault("circuit_down", "mstp-voice", "icmp", "outage", at, "timeout", {}, True)

    # open at 60 (down), up at 69 (held), down at 120, up at 129, stably back (flapping ends) at 268
    assert [c.kind for c in book.reconcile([down(60.0)], now=60.0)] == ["opened"]
    assert book.reconcile([], now=69.0) == []
    assert book.reconcile([down(120.0)], now=120.0) == []
    assert book.reconcile([], now=129.0) == []
    book.release_flapping("mstp-voice", "icmp")
    [recovered] = book.reconcile([], now=268.0)
    assert recovered.data["duration_seconds"] == 208.0  # open 208 s …
    assert recovered.data["flapping"] == {"outages": 2, "minutes": 3.5, "down_seconds": 18.0}
    assert recovered.data["checks"] == [("mstp-voice", "icmp")]
