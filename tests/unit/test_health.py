"""Health state machine, table-driven with an injected clock (observation times)."""

from __future__ import annotations

import random

import pytest

from noc.engine.health import (
    CheckHealth,
    FlapChange,
    HealthPolicy,
    Observation,
    State,
    Transition,
    percent_state_change,
)


def run(
    seq: str,
    *,
    start: float = 1000.0,
    step: float = 1.0,
    health: CheckHealth | None = None,
    values=None,
) -> tuple[CheckHealth, list]:
    """Feed ``seq`` ('+' good, '-' failed) at ``step`` spacing; return health and events."""
    health = health or CheckHealth("mstp-voice", "icmp")
    events = []
    for i, ch in enumerate(seq):
        v = values(i) if values else {}
        events += health.observe(
            Observation(
                "mstp-voice",
                "icmp",
                start + i * step,
                ch == "+",
                "ok" if ch == "+" else "timeout",
                values=v,
            )
        )
    return health, events


def states(events) -> list[tuple[str, float]]:
    return [(str(e.to_state), e.at) for e in events if isinstance(e, Transition)]


@pytest.mark.parametrize(
    ("seq", "expected"),
    [
        ("+", [("UP", 1000.0)]),
        ("+++", [("UP", 1000.0)]),
        ("+--", [("UP", 1000.0)]),  # 2 failures: not yet
        ("+---", [("UP", 1000.0), ("DOWN", 1001.0)]),  # dated by the FIRST failure
        ("+-+-+-+-", [("UP", 1000.0)]),  # never 3 in a row
        ("+----++", [("UP", 1000.0), ("DOWN", 1001.0)]),  # 2 good: not back yet
        (
            "+----+++",
            [("UP", 1000.0), ("DOWN", 1001.0), ("UP", 1005.0)],
        ),  # dated by the first good one
        (
            "+---+-+++",
            [("UP", 1000.0), ("DOWN", 1001.0), ("UP", 1006.0)],
        ),  # streak restarts after a miss
        ("---", [("DOWN", 1000.0)]),  # from UNKNOWN straight to DOWN
    ],
)
def test_hysteresis(seq, expected):
    _, events = run(seq)
    assert states(events) == expected


def test_custom_thresholds():
    policy = HealthPolicy(fail_threshold=1, recover_threshold=2)
    _, events = run("+-++", health=CheckHealth("a", "icmp", policy))
    assert states(events) == [("UP", 1000.0), ("DOWN", 1001.0), ("UP", 1002.0)]


def test_pending_asks_for_fast_confirmation():
    health, _ = run("+")
    assert not health.pending
    health, _ = run("-", health=health, start=1001)
    assert health.pending and health.state is State.UP
    run("--", health=health, start=1002)
    assert health.state is State.DOWN and not health.pending
    run("+", health=health, start=1004)
    assert health.pending


def loss_values(lost_every: int | None):
    def values(i):
        lost = lost_every is not None and i % lost_every == 0
        return {"sent": 1, "received": 0 if lost else 1, "loss_ratio": 1.0 if lost else 0.0}

    return values


def test_loss_degrades_with_separate_enter_and_leave():
    health = CheckHealth("internet", "icmp")
    # every probe answered, but 1 packet in 10 lost: packets, not ratios, over the window
    _, events = run(
        "+" * 40, health=health, values=lambda i: {"sent": 10, "received": 9, "loss_ratio": 0.1}
    )
    assert [e.to_state for e in events if isinstance(e, Transition)] == [State.UP, State.DEGRADED]
    assert health.state is State.DEGRADED and "loss_ratio" in health.degraded_by
    assert health.metric("loss_ratio") == pytest.approx(0.1)
    # 3 % loss: below enter (5 %) but above leave (1 %): stays DEGRADED
    _, events = run(
        "+" * 40,
        start=2000,
        health=health,
        values=lambda i: {"sent": 100, "received": 97, "loss_ratio": 0.03},
    )
    assert health.state is State.DEGRADED and not events
    # clean: at 3013 s the window holds 14 clean probes and 6 at 3 % (18 of 2,000 packets = 0.9 %
    # < 1 %); it must stay below leave 30 s more (3043 s), and UP is dated 3013 s
    _, events = run(
        "+" * 40,
        start=3000,
        health=health,
        values=lambda i: {"sent": 100, "received": 100, "loss_ratio": 0.0},
    )
    assert not events
    _, events = run(
        "+" * 20,
        start=3040,
        health=health,
        values=lambda i: {"sent": 100, "received": 100, "loss_ratio": 0.0},
    )
    assert states(events) == [("UP", 3013.0)]


def test_a_lost_probe_counts_all_its_packets():
    health = CheckHealth("internet", "icmp")
    # 1 probe in 10 gets no answer at all (3 packets lost), the rest all answered
    # (21 probes: the last lost one is judged at the good probe after it)
    _, events = run(
        "".join("-" if i % 10 == 9 else "+" for i in range(21)),
        health=health,
        values=lambda i: {
            "sent": 3,
            "received": 0 if i % 10 == 9 else 3,
            "loss_ratio": 1.0 if i % 10 == 9 else 0.0,
        },
    )
    assert health.metric("loss_ratio") == pytest.approx(6 / 60)
    assert health.state is State.DEGRADED


def test_ten_percent_random_loss_never_goes_down_with_bursts():
    """Per observation 3 packets; 19 % round-trip loss (10 % each way): DOWN needs 9 in a row."""
    rng = random.Random(7)
    health = CheckHealth("internet", "icmp")
    downs = 0
    for i in range(1800):
        received = sum(1 for _ in range(3) if rng.random() > 0.19)
        events = health.observe(
            Observation(
                "internet",
                "icmp",
                1000.0 + i,
                received > 0,
                values={"sent": 3, "received": received, "loss_ratio": 1 - received / 3},
            )
        )
        downs += sum(1 for e in events if isinstance(e, Transition) and e.to_state is State.DOWN)
    assert downs == 0
    assert health.state is State.DEGRADED
    assert not health.flapping


def test_utilisation_must_hold_for_five_minutes():
    health, _ = run("+")
    t = 1001.0
    for _ in range(30):  # 95 % from 1001 s to 1291 s: 290 s, not yet
        assert not [
            e
            for e in health.observe(
                Observation("c", "snmp", t, True, values={"max_utilisation_ratio": 0.95})
            )
            if isinstance(e, Transition)
        ]
        t += 10
    events = health.observe(
        Observation("c", "snmp", t, True, values={"max_utilisation_ratio": 0.95})
    )
    assert states(events) == [("DEGRADED", 1001.0)]  # dated when the congestion began
    events = health.observe(
        Observation("c", "snmp", t + 10, True, values={"max_utilisation_ratio": 0.85})
    )
    assert not events  # 85 % is above leave (80 %)
    events = health.observe(
        Observation("c", "snmp", t + 20, True, values={"max_utilisation_ratio": 0.5})
    )
    assert not events  # below leave, but it must stay there 30 s
    health.observe(Observation("c", "snmp", t + 30, True, values={"max_utilisation_ratio": 0.5}))
    events = health.observe(
        Observation("c", "snmp", t + 50, True, values={"max_utilisation_ratio": 0.5})
    )
    assert states(events) == [("UP", t + 20)]


def test_a_short_spike_does_not_degrade():
    health, _ = run("+")
    for i, u in enumerate([0.95] * 10 + [0.5] + [0.95] * 10):
        events = health.observe(
            Observation("c", "snmp", 1001.0 + 10 * i, True, values={"max_utilisation_ratio": u})
        )
        assert not events


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([True] * 21, 0.0),
        ([True, False] * 10 + [True], 1.0),
        ([True] * 20 + [False], 1.2 / 20),  # newest change weighs 1.2
        ([False] + [True] * 20, 0.8 / 20),  # oldest change weighs 0.8
    ],
)
def test_percent_state_change(history, expected):
    assert percent_state_change(history) == pytest.approx(expected)


def test_flapping_starts_and_stops():
    health = CheckHealth("phone-01", "sip", HealthPolicy(fail_threshold=1, recover_threshold=1))
    flaps = []
    t = 0.0
    for ch in "+-" * 15:
        flaps += [
            e
            for e in health.observe(Observation("phone-01", "sip", t, ch == "+"))
            if isinstance(e, FlapChange)
        ]
        t += 1
    assert [f.flapping for f in flaps] == [True] and health.flapping
    for _ in range(21):
        flaps += [
            e
            for e in health.observe(Observation("phone-01", "sip", t, True))
            if isinstance(e, FlapChange)
        ]
        t += 1
    assert [f.flapping for f in flaps] == [True, False] and not health.flapping


def test_down_clears_the_loss_window():
    """Failed probes while DOWN must not leave the line DEGRADED once it recovers."""
    health, _ = run(
        "+" * 5 + "-" * 10 + "+++",
        values=lambda i: {
            "sent": 1,
            "received": 1 if i < 5 or i >= 15 else 0,
            "loss_ratio": 0.0 if i < 5 or i >= 15 else 1.0,
        },
    )
    assert health.state is State.UP


def test_an_outage_being_confirmed_is_not_first_reported_as_degraded():
    """The lab showed it: link down → the first failed probe (3 of 60 packets in the window =
    5 % loss) raised DEGRADED and a level-II "circuit degraded" incident and alert, replaced a
    moment later by the outage. A failure streak is judged as a possible outage first."""
    health = CheckHealth("mstp-voice", "icmp")
    sent = {"sent": 3, "received": 3, "loss_ratio": 0.0}
    lost = {"sent": 3, "received": 0, "loss_ratio": 1.0}
    _, events = run("+" * 20 + "---", health=health, values=lambda i: sent if i < 20 else lost)
    assert states(events) == [("UP", 1000.0), ("DOWN", 1020.0)]


def test_a_failure_streak_short_of_down_still_counts_as_loss():
    health = CheckHealth("mstp-voice", "icmp")
    sent = {"sent": 3, "received": 3, "loss_ratio": 0.0}
    lost = {"sent": 3, "received": 0, "loss_ratio": 1.0}
    # 20 good, 2 lost (6 of 66 packets over the 20-probe window = 6/60 = 10 %), then good again
    _, events = run(
        "+" * 20 + "--" + "+", health=health, values=lambda i: lost if i in (20, 21) else sent
    )
    assert states(events) == [("UP", 1000.0), ("DEGRADED", 1022.0)]  # judged at the next good one
    assert health.metric("loss_ratio") == pytest.approx(6 / 60)


def test_a_corroborated_failure_streak_goes_down_at_once_dated_by_its_first_failure():
    health = CheckHealth("mstp-voice", "icmp")
    run("+" * 5, health=health)
    run("-", start=1010.0, health=health)
    assert health.failing_since == 1010.0 and health.state is State.UP
    down = health.corroborated_down("interface reported down over SNMP")
    assert (down.to_state, down.at, down.details) == (State.DOWN, 1010.0, {"corroborated": True})
    assert health.metric("loss_ratio") is None  # the outage's lost probes are not "loss"
    _, events = run("+++", start=1012.0, health=health)
    assert states(events) == [("UP", 1012.0)]  # recovery as for any DOWN: 3 good ones


def test_a_lossy_line_does_not_leave_degraded_when_one_window_happens_to_be_clean():
    """Lab soak, 10 % loss for 30 min: one 60-packet window sampled no loss by chance (0.9^60 ≈
    0.2 % of windows), DEGRADED ended and re-entered 10 s later: a closed and reopened incident."""
    health = CheckHealth("mstp-voice", "icmp")
    lossy = {"sent": 3, "received": 2, "loss_ratio": 1 / 3}
    clean = {"sent": 3, "received": 3, "loss_ratio": 0.0}
    run("+" * 25, health=health, values=lambda i: lossy if i % 3 == 0 else clean)  # 11 % loss
    assert health.state is State.DEGRADED
    # 20 clean probes (a clean window for a moment), then the loss again
    _, events = run(
        "+" * 45,
        start=1100.0,
        health=health,
        values=lambda i: clean if 5 <= i < 25 + 5 else lossy if i % 3 == 0 else clean,
    )
    assert health.state is State.DEGRADED and not [e for e in events if isinstance(e, Transition)]
