"""The definitions a purchaser signs (issue 11, items 9 and 10; docs/sla.md), hand-computed.

Each test is one worked example of docs/sla.md: the old reading, the signed one, and the
arithmetic. Scopes come from the real Lingshui inventory (``sla.report``'s builders), November
2026 (Asia/Shanghai) is 30 days = 2,592,000 s.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla.compute import IncidentFact, Inputs, MaintenanceFact, TransitionFact, compute, mtbf
from sla.derive import FAR, measured_down, member_spans, merge_parents, state_intervals
from sla.gauges import SlaTargets
from sla.intervals import parse_period
from sla.scope import service_scope, site_scope, upstream_map

SH = ZoneInfo("Asia/Shanghai")
TARGETS = SlaTargets(
    availability_objective_ratio=0.999,
    mtbf_seconds=600 * 3600.0,
    mttr_seconds={"automatic": 900.0, "manual": 86400.0},
)
NOV = parse_period("2026-11", SH)
AFTER = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
MONTH, HOUR = 30 * 86400, 3600
PHONES = tuple(f"phone-{i:02d}" for i in range(1, 20))


def at(day: int, hour: int, minute: int = 0, second: float = 0) -> dt.datetime:
    whole = int(second)
    micro = round((second - whole) * 1e6)
    return dt.datetime(2026, 11, day, hour, minute, whole, micro, tzinfo=SH).astimezone(dt.UTC)


def failure(id, start, seconds, root="mstp-voice", services=("voice-intake",), **extra):
    kind = extra.pop("kind", "automatic")
    return IncidentFact(
        id=id,
        fault_started_at=start,
        detected_at=start,
        peak_severity=extra.pop("level", "I"),
        root_asset=root,
        recovered_at=None if seconds is None else start + dt.timedelta(seconds=seconds),
        recovery_kind=None if seconds is None else kind,
        members=frozenset(extra.pop("members", {root})),
        services=frozenset(services),
        **extra,
    )


def window(id, start, seconds, assets):
    return MaintenanceFact(
        id,
        frozenset(assets),
        start,
        start + dt.timedelta(seconds=seconds),
        created_at=start - dt.timedelta(days=1),
    )


@pytest.fixture(scope="module")
def inv(lingshui_config):
    class Inv:
        site = site_scope(lingshui_config)
        voice = service_scope(lingshui_config, "voice-intake")
        ticket = service_scope(lingshui_config, "ticket-exchange")
        phones = service_scope(lingshui_config, "staff-phones")

        @staticmethod
        def inputs(**kw):
            return Inputs(upstream=upstream_map(lingshui_config), **kw)

    return Inv


# -- 9a: MTBF = up time ÷ failures (平均无故障时间) ----------------------------------------------


@pytest.mark.parametrize(
    ("outage_hours", "mtbf_hours", "meets"),
    [
        (130, 718 - 130, False),  # was 718 h ÷ 1 "meets"; up 588 h ÷ 1 misses 600 h
        (118, 600, False),  # up 600 h exactly: "超过600小时" is not met
        (117, 601, True),
    ],
)
def test_9a_mtbf_divides_up_time_not_the_outage_too(inv, outage_hours, mtbf_hours, meets):
    # voice intake: 2 h planned (718 h of operation), one level-I failure of ``outage_hours``
    inputs = inv.inputs(
        incidents=[failure(1, at(5, 0), outage_hours * HOUR, kind="manual")],
        maintenance=[window(1, at(20, 2), 2 * HOUR, ["mstp-voice"])],
    )
    r = compute(inputs, inv.voice, NOV, TARGETS, AFTER)
    assert r.operating_seconds == MONTH - 2 * HOUR == 718 * HOUR
    assert r.downtime_seconds == outage_hours * HOUR and r.failures == 1
    assert r.up_seconds == (718 - outage_hours) * HOUR
    assert (r.mtbf_seconds, r.mtbf_lower_bound, r.mtbf_meets_target) == (
        mtbf_hours * HOUR,
        False,
        meets,
    )


@pytest.mark.parametrize(
    ("up", "operating", "failures", "expected"),
    [
        (588 * HOUR, 718 * HOUR, 1, (588 * HOUR, False, False)),
        (718 * HOUR, 718 * HOUR, 0, (718 * HOUR, True, True)),  # no failure: ≥ up time
        (0.0, 0.0, 0, (None, False, None)),  # nothing operated: no figure
    ],
)
def test_9a_the_mtbf_function_boundary(up, operating, failures, expected):
    # up time comes in from outside, so "operating" can later become "monitored operating"
    assert mtbf(up, operating, failures, 600 * HOUR) == expected


# -- 9b: a merged incident keeps its own start -------------------------------------------------


@pytest.mark.parametrize(
    ("circuit_hours", "repair_hours", "breach"),
    [
        (23, 25, True),  # was 2 h (the router's own), no breach: the 23 h before the merge lost
        (21, 23, False),
    ],
)
def test_9b_a_merged_circuit_outage_keeps_its_hours_for_repair_and_breach(
    inv, circuit_hours, repair_hours, breach
):
    # mstp-voice down from 11-10 08:00 (its own incident #2); ``circuit_hours`` later the CE router
    # is found down (#1, opened then) and #2 is merged into it; #1 is fixed by hand 2 h later
    merge = at(10, 8) + dt.timedelta(hours=circuit_hours)
    inputs = inv.inputs(
        incidents=[
            failure(1, merge, 2 * HOUR, root="ce-router", kind="manual"),
            failure(2, at(10, 8), None, merged=True, closed_at=merge, merged_into=1),
        ]
    )
    r = compute(inputs, inv.voice, NOV, TARGETS, AFTER)
    assert (r.failures, r.downtime_seconds) == (1, repair_hours * HOUR)
    [line] = r.failure_lines
    assert (line.incident_id, line.started_at, line.repair_seconds) == (
        1,
        at(10, 8),
        repair_hours * HOUR,
    )
    assert r.mttr_seconds == {"manual": repair_hours * HOUR}
    expected = [(1, "manual", repair_hours * HOUR)] if breach else []
    assert [(b.incident_id, b.kind, b.duration_seconds) for b in r.breaches] == expected


def test_9b_the_parent_of_a_merge_is_the_incident_with_that_key_open_then():
    t = at(10, 8)
    later = t + dt.timedelta(days=1)
    incidents = [
        (1, "router_down:ce-router", t - dt.timedelta(days=2), t - dt.timedelta(days=1)),  # over
        (2, "circuit_down:mstp-voice", t - dt.timedelta(hours=23), later),  # merged at t
        (3, "router_down:ce-router", t, None),  # opened in the same reconciliation
        (4, "router_down:ce-router", later, None),  # the same key, reused later
    ]
    assert merge_parents(incidents, {2: (t, "router_down:ce-router")}) == {2: 3}
    assert merge_parents(incidents, {2: (t, "router_down:nowhere")}) == {}


# -- 9c: only the scope's own planned window excuses a failure ---------------------------------


@pytest.mark.parametrize(
    ("window_on", "root", "services", "site_failures", "site_downtime"),
    [
        # ticket-exchange work 02:00 → 06:00; voice down 03:00 → 04:00: the site used to miss it
        (["mstp-ticket"], "mstp-voice", ("voice-intake",), 1, 0),
        # work on the voice circuit itself: planned for the site too (and for the failure)
        (["mstp-voice"], "mstp-voice", ("voice-intake",), 0, 0),
        # a CE-router failure (voice, ticket, internet) during the ticket work: voice is unplanned
        (
            ["mstp-ticket"],
            "ce-router",
            ("voice-intake", "ticket-exchange", "internet-channels"),
            1,
            0,
        ),
    ],
)
def test_9c_a_failure_counts_for_the_site_unless_its_own_services_are_planned_down(
    inv, window_on, root, services, site_failures, site_downtime
):
    inputs = inv.inputs(
        incidents=[failure(1, at(10, 3), HOUR, root=root, services=services)],
        maintenance=[window(1, at(10, 2), 4 * HOUR, window_on)],
    )
    site = compute(inputs, inv.site, NOV, TARGETS, AFTER)
    # the site is down by plan while any service is: that stretch is not operating time, so the
    # failure costs no downtime there — but it is a failure, with its repair time and breach
    assert site.operating_seconds == MONTH - 4 * HOUR
    assert (site.failures, site.downtime_seconds) == (site_failures, site_downtime)
    assert [(b.incident_id, b.kind) for b in site.breaches] == [(1, "automatic")] * site_failures
    voice = compute(inputs, inv.voice, NOV, TARGETS, AFTER)
    assert (voice.failures, voice.downtime_seconds) == (
        (1, HOUR) if window_on == ["mstp-ticket"] else (0, 0)
    )


def test_9c_a_failure_of_the_planned_service_itself_stays_excused_at_the_site(inv):
    # a ticket-circuit failure 03:00 → 04:00 inside the ticket work 02:00 → 06:00 on mstp-ticket
    inputs = inv.inputs(
        incidents=[failure(1, at(10, 3), HOUR, root="mstp-ticket", services=("ticket-exchange",))],
        maintenance=[window(1, at(10, 2), 4 * HOUR, ["mstp-ticket"])],
    )
    for scope in (inv.site, inv.ticket):
        assert compute(inputs, scope, NOV, TARGETS, AFTER).failures == 0, scope.label


# -- 9d: a window on one member hides that member only ----------------------------------------


def phones_incident(members, spans=(), seconds=HOUR):
    return failure(
        1,
        at(10, 3),
        seconds,
        root="lingshui",
        services=("staff-phones",),
        level="III",
        members=set(members),
        grouped=True,
        member_spans=spans,
    )


@pytest.mark.parametrize(
    ("window_on", "failures", "downtime"),
    [
        (["phone-01"], 1, HOUR),  # was hidden whole: phone-01 is one of its five members
        (PHONES[:5], 0, 0),  # every member under maintenance: planned
        (["voice-gw"], 0, 0),  # upstream of every phone: planned
    ],
)
def test_9d_a_window_on_one_phone_does_not_hide_the_grouped_incident(
    inv, window_on, failures, downtime
):
    # phones 01–05 unreachable 03:00 → 04:00 (one grouped incident, level III); window 02:00 → 06:00
    inputs = inv.inputs(
        incidents=[phones_incident(PHONES[:5])],
        maintenance=[window(1, at(10, 2), 4 * HOUR, window_on)],
    )
    r = compute(inputs, inv.phones, NOV, TARGETS, AFTER)
    assert (r.failures, r.downtime_seconds) == (failures, downtime)


def test_9d_members_count_from_when_they_joined(inv):
    # phone-01 from 03:00 (under maintenance 02:00 → 06:00), phones 02 and 03 from 03:30: the
    # failure starts at 03:30 and lasts until the incident's end at 04:00
    spans = (
        ("phone-01", at(10, 3), None),
        ("phone-02", at(10, 3, 30), None),
        ("phone-03", at(10, 3, 30), None),
    )
    inputs = inv.inputs(
        incidents=[phones_incident(PHONES[:3], spans)],
        maintenance=[window(1, at(10, 2), 4 * HOUR, ["phone-01"])],
    )
    r = compute(inputs, inv.phones, NOV, TARGETS, AFTER)
    assert (r.failures, r.downtime_seconds) == (1, 30 * 60)
    assert r.failure_lines[0].started_at == at(10, 3, 30)


def test_9d_member_spans_from_the_timeline():
    start = at(10, 3)
    events = [
        ("opened", start, {"members": ["phone-01"]}),
        ("graded", start, {"severity": "IV"}),
        ("members_changed", at(10, 3, 30), {"added": ["phone-02", "phone-03"], "removed": []}),
        ("members_changed", at(10, 3, 40), {"added": [], "removed": ["phone-01"]}),
    ]
    assert member_spans(start, events) == (
        ("phone-01", start, at(10, 3, 40)),
        ("phone-02", at(10, 3, 30), None),
        ("phone-03", at(10, 3, 30), None),
    )


# -- 9e: an alert never delivered counts against the alarm delay -----------------------------


def test_9e_an_undelivered_alert_is_an_open_delay_and_listed(inv):
    now = at(29, 13)
    inputs = inv.inputs(
        incidents=[
            failure(1, at(29, 9), 60, alarmed_at=at(29, 9, 0, 30)),  # alarmed after 30 s
            failure(2, at(29, 12), None),  # never delivered: open for the last hour
        ]
    )
    r = compute(inputs, inv.voice, NOV, TARGETS, now)
    # it used to drop out: p50 = max = 30 s over one incident
    assert r.not_alarmed == (2,) and r.alarmed == 1
    assert (r.alarm_delay_p50_seconds, r.alarm_delay_max_seconds) == ((30 + HOUR) / 2, HOUR)
    # a month already over: the delay is open up to the month's end (figures do not grow later)
    r = compute(inputs, inv.voice, NOV, TARGETS, AFTER)
    open_delay = (NOV.end - at(29, 12)).total_seconds()  # 11-29 12:00 → 12-01 00:00 = 36 h
    assert open_delay == 36 * HOUR and r.alarm_delay_max_seconds == open_delay


def test_9e_the_undelivered_are_listed_in_every_rendering(inv, lingshui_config):
    from sla.render import document, render_md, render_table

    now = at(29, 13)
    inputs = inv.inputs(incidents=[failure(2, at(29, 12), None)])
    r = compute(inputs, inv.voice, NOV, TARGETS, now)
    row = document([r], lingshui_config, now)["rows"][0]
    assert row["not_alarmed"] == [{"incident_id": 2, "open_delay_seconds": HOUR}]
    assert row["alarm_delay_seconds"] == {"p50": HOUR, "max": HOUR, "count": 0}
    assert "service:voice-intake  #2  ≥3600s" in render_table([r], lingshui_config, "en")
    assert "- service:voice-intake  #2  ≥3600s" in render_md([r], lingshui_config, "en")


def test_9e_time_muted_by_maintenance_is_shown_apart(inv):
    # mstp-voice work 02:00 → 04:00; the circuit fails at 02:30 (muted), outlasts the window and
    # is alarmed at 04:00:20 → 20 s of delay, 5,400 s muted shown apart
    inputs = inv.inputs(
        incidents=[
            failure(1, at(10, 2, 30), 2.5 * HOUR, alarmed_at=at(10, 4, 0, 20), kind="manual")
        ],
        maintenance=[window(1, at(10, 2), 2 * HOUR, ["mstp-voice"])],
    )
    r = compute(inputs, inv.voice, NOV, TARGETS, AFTER)
    [line] = r.alarm_lines
    assert (line.delay_seconds, line.muted_seconds) == (20, 90 * 60)
    assert r.alarm_delay_max_seconds == 20 and r.alarm_muted_seconds == 90 * 60


# -- 9f: a symptom on one check impairs only the services that need it -------------------------


def test_9f_staff_phones_are_not_charged_for_a_ce_router_outage(inv, lingshui_config):
    from noc.engine.faults import Fault
    from noc.engine.incidents import IncidentBook, ServiceSpec
    from noc.engine.topology import Topology

    book = IncidentBook(
        Topology.from_config(lingshui_config),
        {s.name: ServiceSpec(s.impact, tuple(s.partial)) for s in lingshui_config.services},
        lingshui_config.severity,
        "lingshui",
        {a.name: a.kind for a in lingshui_config.assets},
    )
    t0 = at(10, 3)

    def down(type_, asset, check="icmp"):
        return Fault(type_, asset, check, "outage", t0.timestamp(), "timeout")

    faults = [
        down("router_down", "ce-router"),
        down("circuit_down", "mstp-voice"),
        down("sip_trunk_error", "voice-gw", "trunk"),  # the trunk runs over the voice circuit
    ]
    opened = book.reconcile(faults, now=t0.timestamp())[0]
    services = [s["service"] for s in opened.data["services"]]
    # the CE router's incident, 03:00 → 04:00, as the SLA reads it from the store
    inputs = inv.inputs(incidents=[failure(1, t0, HOUR, root="ce-router", services=services)])
    assert compute(inputs, inv.phones, NOV, TARGETS, AFTER).downtime_seconds == 0  # was 3,600
    assert compute(inputs, inv.voice, NOV, TARGETS, AFTER).downtime_seconds == HOUR


# -- 10: downtime is what was measured down -----------------------------------------------------


def flap_transitions(t0: dt.datetime, outages: int = 3, stop: float = 268.0):
    """mstp-voice icmp down 9 s every minute; flapping from the second return to ``stop`` s."""
    out = [TransitionFact("mstp-voice", "icmp", "UNKNOWN", "UP", t0 - dt.timedelta(hours=1))]
    for k in range(outages):
        down = t0 + dt.timedelta(seconds=60 * k)
        out += [
            TransitionFact("mstp-voice", "icmp", "UP", "DOWN", down),
            TransitionFact("mstp-voice", "icmp", "DOWN", "UP", down + dt.timedelta(seconds=9)),
        ]
    out += [
        TransitionFact("mstp-voice", "icmp", "UP", "UP", t0 + dt.timedelta(seconds=69), True),
        TransitionFact("mstp-voice", "icmp", "UP", "UP", t0 + dt.timedelta(seconds=stop), False),
    ]
    return out


def test_10_three_9_second_outages_under_one_flapping_incident(inv):
    t0 = at(15, 15)
    transitions = flap_transitions(t0)
    recovered = t0 + dt.timedelta(seconds=268)  # when the flapping rule saw it stably back
    measured = measured_down(transitions, [("mstp-voice", "icmp")], t0, recovered)
    s = lambda n: t0 + dt.timedelta(seconds=n)  # noqa: E731
    assert measured == ((s(0), s(9)), (s(60), s(69)), (s(120), s(129)))
    held = failure(1, t0, 268, measured_down=measured)
    r = compute(
        inv.inputs(incidents=[held], transitions=transitions), inv.voice, NOV, TARGETS, AFTER
    )
    # open 268 s, down 27 s: three failures of 9 s each, every one recovered by itself
    assert (r.downtime_seconds, r.failures) == (27, 3)
    assert [(f.repair_seconds, f.recovered_at, f.recovery_kind) for f in r.failure_lines] == [
        (9, s(9), "automatic"),
        (9, s(69), "automatic"),
        (9, s(129), "automatic"),
    ]
    assert r.mttr_seconds == {"automatic": 9} and r.breaches == ()
    # the old reading charged the incident's whole span: 268 s, a 15-minute breach in waiting
    unmeasured = compute(
        inv.inputs(incidents=[failure(1, t0, 268)]), inv.voice, NOV, TARGETS, AFTER
    )
    assert (unmeasured.downtime_seconds, unmeasured.failures) == (268, 1)


def test_10_an_afternoon_of_flapping_breaches_nothing_it_did_not_do(inv):
    # 40 outages of 9 s, one a minute, held in one incident open 40 min (≥ 15 min): no breach
    t0 = at(15, 14)
    transitions = flap_transitions(t0, outages=40, stop=40 * 60)
    measured = measured_down(
        transitions, [("mstp-voice", "icmp")], t0, t0 + dt.timedelta(minutes=40)
    )
    held = failure(1, t0, 40 * 60, measured_down=measured)
    r = compute(inv.inputs(incidents=[held]), inv.voice, NOV, TARGETS, AFTER)
    assert (r.downtime_seconds, r.failures, r.breaches) == (40 * 9, 40, ())


def test_10_a_held_incident_still_open_has_its_last_outage_open(inv):
    t0 = at(15, 15)
    transitions = flap_transitions(t0)[:-1] + [
        TransitionFact("mstp-voice", "icmp", "UP", "DOWN", t0 + dt.timedelta(seconds=180))
    ]
    measured = measured_down(transitions, [("mstp-voice", "icmp")], t0, None)
    assert measured[-1] == (t0 + dt.timedelta(seconds=180), FAR)
    now = t0 + dt.timedelta(seconds=200)
    r = compute(
        inv.inputs(incidents=[failure(1, t0, None, measured_down=measured)]),
        inv.voice,
        NOV,
        TARGETS,
        now,
    )
    assert (r.downtime_seconds, r.failures) == (27 + 20, 4)
    assert [f.recovered_at is None for f in r.failure_lines] == [False, False, False, True]


def test_10_no_flapping_no_measurement():
    # a check that went down and up without flapping: the incident's own span stands
    t0 = at(15, 15)
    plain = [
        TransitionFact("mstp-voice", "icmp", "UP", "DOWN", t0),
        TransitionFact("mstp-voice", "icmp", "DOWN", "UP", t0 + dt.timedelta(seconds=9)),
    ]
    assert measured_down(plain, [("mstp-voice", "icmp")], t0, t0 + dt.timedelta(seconds=9)) is None
    assert state_intervals(plain, [("mstp-voice", "icmp")]) == [(t0, t0 + dt.timedelta(seconds=9))]


def test_10_a_held_incident_still_open_after_its_last_bounce(inv):
    # still flapping (open) at 200 s, the check back up since 129 s: three outages, all over
    t0 = at(15, 15)
    transitions = flap_transitions(t0)[:-1]
    measured = measured_down(transitions, [("mstp-voice", "icmp")], t0, None)
    r = compute(
        inv.inputs(incidents=[failure(1, t0, None, measured_down=measured)]),
        inv.voice,
        NOV,
        TARGETS,
        t0 + dt.timedelta(seconds=200),
    )
    assert (r.downtime_seconds, r.failures, r.recoveries) == (27, 3, {"automatic": 3, "manual": 0})
