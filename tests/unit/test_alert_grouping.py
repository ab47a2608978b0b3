"""Grouping timers, re-notification, dedup and escalation with a fake clock; muting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from alerting.config import AlertingConfig, Route
from alerting.grouping import AlertGrouper
from alerting.model import AlertEvent
from alerting.mute import AlertMuter, MaintenanceMuter, Window, outlasting


def ev(
    incident: int,
    kind: str,
    at: float,
    severity: str = "I",
    seq: int = 1,
    asset: str = "mstp-voice",
    assets: tuple[str, ...] = (),
    **ctx,
) -> AlertEvent:
    return AlertEvent(
        incident,
        kind,
        at,
        severity,
        {
            "site": "lingshui",
            "asset": asset,
            "asset_kind": "mstp_circuit",
            "fault_type": "circuit_down",
            "severity": severity,
            "services": "voice-intake",
        },
        ctx,
        seq=seq,
        assets=assets or (asset,),
    )


def sent(batches) -> list[tuple[str, list[tuple[int, str]]]]:
    return [(b.receiver, [(e.incident_id, e.kind) for e in b.events]) for b in batches]


def grouper() -> AlertGrouper:
    return AlertGrouper(AlertingConfig().route)


def test_level_i_goes_out_immediately_and_alone():
    g = grouper()
    g.add(ev(1, "opened", 100.0), 100.0)
    g.add(ev(2, "opened", 100.0, asset="voice-gw"), 100.0)
    assert g.next_due() == 100.0
    assert sent(g.due(100.0)) == [("noc-oncall", [(1, "opened")]), ("noc-oncall", [(2, "opened")])]
    assert g.due(100.0) == []


def test_level_iii_waits_group_wait_then_batches_by_group_interval():
    g = grouper()
    g.add(ev(1, "opened", 0.0, "III"), 0.0)
    g.add(ev(2, "opened", 10.0, "IV", asset="internet"), 10.0)
    assert g.due(29.9) == []
    [batch] = g.due(30.0)
    assert [e.incident_id for e in batch.events] == [1, 2]
    assert batch.severity == "III" and batch.event_kind == "opened" and batch.incident_id is None
    g.add(ev(1, "recovered", 40.0, "III", seq=2), 40.0)
    assert g.next_due() == 330.0  # last flush + group_interval 5m
    assert g.due(329.0) == []
    assert sent(g.due(330.0)) == [("noc-oncall", [(1, "recovered")])]


def test_unacknowledged_incident_is_renotified_until_acknowledged():
    g = grouper()
    g.add(ev(1, "opened", 0.0), 0.0)
    g.due(0.0)
    assert g.next_due() == 900.0
    assert g.due(899.0) == []
    [r1] = g.due(900.0)
    assert r1.events[0].kind == "renotify" and r1.events[0].context["renotify_count"] == 1
    [r2] = g.due(1800.0)
    assert r2.events[0].context["renotify_count"] == 2
    assert r1.dedup_key != r2.dedup_key
    g.add(ev(1, "acknowledged", 2000.0, seq=2), 2000.0)
    assert sent(g.due(2000.0)) == [("noc-oncall", [(1, "acknowledged")])]
    g.add(ev(1, "regraded", 2100.0, seq=3), 2100.0)  # still acknowledged: no reminders after this
    g.due(2100.0 + 60)
    assert g.due(10_000.0) == [] and g.next_due() is None


def test_recovery_stops_renotification():
    g = grouper()
    g.add(ev(1, "opened", 0.0), 0.0)
    g.due(0.0)
    g.add(ev(1, "recovered", 100.0, seq=2), 100.0)
    assert sent(g.due(100.0)) == [("noc-oncall", [(1, "recovered")])]
    assert g.due(5000.0) == [] and g.groups == {}


def test_news_resets_the_repeat_timer():
    g = grouper()
    g.add(ev(1, "opened", 0.0), 0.0)
    g.due(0.0)
    g.add(ev(1, "regraded", 600.0, seq=2), 600.0)
    assert sent(g.due(600.0)) == [("noc-oncall", [(1, "regraded")])]
    assert g.due(900.0) == []
    assert g.next_due() == 1500.0


def test_same_event_is_never_emitted_twice():
    g = grouper()
    e = ev(1, "opened", 0.0)
    assert g.add(e, 0.0)
    assert g.add(e, 0.0) == []
    assert sent(g.due(0.0)) == [("noc-oncall", [(1, "opened")])]
    g.add(e, 5.0)
    assert g.due(5.0) == []
    # after a restart, what the outbox already holds is not sent again
    g2 = AlertGrouper(AlertingConfig().route, sent=[(1, 1, "noc-oncall")])
    assert g2.add(e, 0.0) == [] and g2.due(0.0) == []


def test_continue_routes_to_the_same_receiver_send_once():
    tree = Route.model_validate(
        {
            "receiver": "a",
            "routes": [
                {"matchers": {"severity": "I"}, "continue": True, "group_wait": 0},
                {"matchers": {"asset": "mstp-voice"}, "group_wait": 0},
                {"matchers": {"asset": "mstp-voice"}, "receiver": "b"},
            ],
        }
    )
    g = AlertGrouper(tree)
    assert [m.receiver for m in g.add(ev(1, "opened", 0.0), 0.0)] == ["a"]


def test_regrade_to_a_grouped_level_moves_the_incident():
    g = grouper()
    g.add(ev(1, "opened", 0.0, "I"), 0.0)
    g.due(0.0)
    g.add(ev(1, "regraded", 100.0, "III", seq=2), 100.0)
    assert g.due(100.0) == []  # III waits group_wait
    assert sent(g.due(130.0)) == [("noc-oncall", [(1, "regraded")])]
    # the I/II group no longer re-notifies it every 15 min; the III group does every 2 h
    assert g.due(1000.0) == []
    [batch] = g.due(130.0 + 7200)
    assert batch.events[0].kind == "renotify" and batch.route_id == "root.1"


def test_escalation_reaches_the_tier_receiver_and_then_its_recovery():
    g = grouper()
    g.add(ev(1, "opened", 0.0), 0.0)
    g.due(0.0)
    g.add(
        ev(1, "escalated", 600.0, seq=2, escalate_to="noc-lead", escalation_title="10分钟未恢复"),
        600.0,
    )
    assert sorted(sent(g.due(600.0))) == [
        ("noc-lead", [(1, "escalated")]),
        ("noc-oncall", [(1, "escalated")]),
    ]
    g.add(ev(1, "recovered", 700.0, seq=3), 700.0)
    assert sorted(sent(g.due(700.0))) == [
        ("noc-lead", [(1, "recovered")]),
        ("noc-oncall", [(1, "recovered")]),
    ]


def test_dedup_key_is_stable_and_fits_the_outbox():
    g = grouper()
    for i in range(60):
        g.add(ev(i, "opened", 0.0, "IV", asset=f"phone-{i:02}"), 0.0)
    [batch] = g.due(30.0)
    assert len(batch.events) == 60
    assert len(batch.dedup_key) <= 255 and batch.dedup_key.startswith("noc-oncall/")
    g1 = grouper()
    g1.add(ev(1, "opened", 0.0), 0.0)
    assert g1.due(0.0)[0].dedup_key == "noc-oncall/1:1"


def test_renotification_held_back_while_muted():
    g = grouper()
    g.add(ev(1, "opened", 0.0), 0.0)
    g.due(0.0)
    muter = AlertMuter([Window(1, frozenset({"mstp-voice"}), 800.0, 1000.0)])
    assert g.due(900.0, muted=muter) == []
    [batch] = g.due(1800.0, muted=muter)
    assert batch.events[0].context["renotify_count"] == 1


# -- muting ---------------------------------------------------------------------------------

WINDOWS = [
    Window(1, frozenset({"mstp-voice", "ce-router"}), 1000.0, 2000.0, reason="carrier works"),
    Window(2, frozenset({"voice-gw"}), 1500.0, 3000.0, ended_at=2500.0),
]


def test_maintenance_mutes_only_when_every_asset_is_under_a_window():
    m = AlertMuter(WINDOWS)
    assert m.muted(ev(1, "opened", 1100.0), 1100.0) == "maintenance window #1 (carrier works)"
    assert m.muted(ev(1, "opened", 999.0), 999.0) is None
    assert m.muted(ev(1, "opened", 2000.0), 2000.0) is None  # the end is outside
    both = ev(1, "opened", 1600.0, assets=("mstp-voice", "voice-gw"))
    assert m.muted(both, 1600.0) == "maintenance window #1 (carrier works), #2"
    assert m.muted(ev(1, "opened", 1100.0, assets=("mstp-voice", "phone-01")), 1100.0) is None
    assert m.muted(ev(1, "opened", 2600.0, asset="voice-gw"), 2600.0) is None  # ended early


def test_symptom_only_updates_are_inhibited_but_a_parents_recovery_never():
    m = AlertMuter(WINDOWS)
    assert (
        m.muted(ev(1, "regraded", 10.0, symptom_only=True), 10.0)
        == "inhibited: symptom of a parent incident"
    )
    parent = ev(1, "recovered", 1100.0, symptoms=[{"asset": "voice-gw", "type": "sip_trunk_error"}])
    assert m.muted(parent, 1100.0) is None
    assert (
        m.muted(ev(1, "recovered", 1100.0), 1100.0) is not None
    )  # not a parent: muted in its window


def test_ended_windows_and_incidents_that_outlast_them():
    m = AlertMuter(WINDOWS)
    assert [w.id for w in m.ended_windows(0.0, 1999.0)] == []
    assert [w.id for w in m.ended_windows(1999.0, 2000.0)] == [1]
    assert [w.id for w in m.ended_windows(2000.0, 4000.0)] == [2]  # ended early at 2500
    open_events = [
        ev(1, "opened", 1100.0),
        ev(2, "opened", 1100.0, asset="internet"),
        ev(3, "opened", 1600.0, assets=("ce-router",)),
    ]
    assert [e.incident_id for e in outlasting(WINDOWS[0], open_events, m)] == [1, 3]
    still_covered = [
        Window(1, frozenset({"mstp-voice"}), 0.0, 100.0),
        Window(2, frozenset({"mstp-voice"}), 50.0, 200.0),
    ]
    m2 = MaintenanceMuter(still_covered)
    assert outlasting(still_covered[0], [ev(1, "opened", 10.0)], m2) == []


@dataclass
class Row:  # the shape of a maintenance_windows row
    id: int
    assets: list[str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    ended_at: dt.datetime | None
    reason: str


def test_window_from_store_row():
    start = dt.datetime(2026, 11, 29, 2, 0)  # naive = UTC, as the store keeps it
    w = Window.from_row(Row(5, ["mstp-voice"], start, start + dt.timedelta(hours=2), None, "割接"))
    assert w.starts_at == dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC).timestamp()
    assert w.end - w.starts_at == 7200.0 and w.assets == {"mstp-voice"} and w.reason == "割接"


# -- issue 11 (9g): muting reads maintenance the way the SLA does ---------------------------------


@dataclass
class CreatedRow(Row):
    created_at: dt.datetime | None = None


def test_a_window_entered_late_mutes_from_its_entry_as_the_sla_counts_it():
    start = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
    late = CreatedRow(
        5, ["mstp-voice"], start, start + dt.timedelta(hours=2), None, "补录", start.replace(hour=3)
    )
    assert Window.from_row(late).starts_at == start.replace(hour=3).timestamp()


@pytest.fixture(scope="module")
def upstream(lingshui_config):
    from noc.engine.topology import upstream_map

    return upstream_map(lingshui_config)


@pytest.mark.parametrize(
    ("window_on", "asset", "muted"),
    [
        ("ce-router", "mstp-voice", True),  # upstream: was not muted, while the SLA excused it
        ("ce-router", "internet", True),
        ("ce-router", "voice-gw", False),  # the gateway does not run over the CE router
        ("voice-gw", "phone-03", True),
        ("mstp-voice", "ce-router", False),  # downstream work covers nothing upstream
    ],
)
def test_an_upstream_window_mutes_what_runs_over_it(upstream, window_on, asset, muted):
    m = AlertMuter([Window(1, frozenset({window_on}), 1000.0, 2000.0)], upstream=upstream)
    assert (m.muted(ev(1, "opened", 1500.0, asset=asset), 1500.0) is not None) is muted


def test_symptoms_need_no_window_of_their_own(upstream):
    # the voice circuit under work; its incident lists the trunk (on voice-gw) as a symptom
    m = AlertMuter([Window(1, frozenset({"mstp-voice"}), 1000.0, 2000.0)], upstream=upstream)
    event = ev(
        1,
        "opened",
        1500.0,
        assets=("mstp-voice", "voice-gw"),
        symptoms=[{"asset": "voice-gw", "type": "sip_trunk_error"}],
    )
    assert m.muted(event, 1500.0) == "maintenance window #1"


def test_an_incident_outlasting_an_upstream_window_alerts_at_its_end(upstream):
    w = Window(1, frozenset({"ce-router"}), 1000.0, 2000.0)
    m = AlertMuter([w], upstream=upstream)
    events = [ev(1, "opened", 1500.0), ev(2, "opened", 1500.0, asset="voice-gw")]
    assert [e.incident_id for e in outlasting(w, events, m)] == [1]


@pytest.mark.parametrize("window_on", ["ce-router", "mstp-voice", "voice-gw", "mstp-ticket"])
@pytest.mark.parametrize("root", ["mstp-voice", "voice-gw", "ce-router"])
def test_muting_and_the_sla_agree_on_what_a_window_covers(
    lingshui_config, upstream, window_on, root
):
    """Both or neither: an incident wholly inside a window is muted iff the SLA excuses it."""
    from sla.compute import IncidentFact, Inputs, MaintenanceFact, incident_planned

    t0 = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC)
    fact = IncidentFact(1, t0, t0, "I", root, members=frozenset({root}))
    window_fact = MaintenanceFact(
        1, frozenset({window_on}), t0 - dt.timedelta(hours=1), t0 + dt.timedelta(hours=1)
    )
    excused = bool(incident_planned(Inputs(maintenance=[window_fact], upstream=upstream), fact))
    m = AlertMuter(
        [Window(1, frozenset({window_on}), t0.timestamp() - 3600, t0.timestamp() + 3600)],
        upstream=upstream,
    )
    assert (
        m.muted(ev(1, "opened", t0.timestamp(), asset=root), t0.timestamp()) is not None
    ) is excused
