"""Device counters in, exported ``_total`` counters out: a running sum of increases that never
goes backwards. Each case is a sequence of readings and the totals by hand."""

from __future__ import annotations

import pytest

from noc.metrics.counters import CounterTotals
from probes.kind import CounterReading

W64, W32 = 2**64, 2**32


def totals(readings, bits=64, restarts=()):
    """Feed (value, origin) readings of one series; ``restarts``: the indexes at which the
    device restarted since the previous reading."""
    t = CounterTotals()
    return [
        t.advance("s", CounterReading(value, bits, origin), restarted=i in restarts)
        for i, (value, origin) in enumerate(readings)
    ]


@pytest.mark.parametrize(
    ("readings", "bits", "restarts", "expected"),
    [
        # first reading is the baseline: 0, then the increases
        ([(1000, 1), (1500, 1), (1500, 1), (4000, 1)], 64, (), [0, 500, 500, 3000]),
        # a 32-bit error counter wraps: the wrapped increase counts
        ([(W32 - 10, 1), (5, 1)], 32, (), [0, 15]),
        # a 64-bit octet counter that drops was reset (a real wrap is never seen): new start
        ([(10**12, 1), (300, 1), (800, 1)], 64, (), [0, 0, 500]),
        # a 32-bit counter dropping by more than half its range was reset, not wrapped
        ([(100, 1), (3, 1), (10, 1)], 32, (), [0, 0, 7]),
        # the agent restarted and the counter already climbed past the old value: the climb
        # is not traffic since our reading, so this reading is a new start
        ([(1000, 1), (5000, 1), (5600, 1)], 64, (1,), [0, 0, 600]),
        # the interface name now belongs to another ifIndex: another counter, new start
        ([(1000, 1), (9_000_000, 7), (9_000_100, 7)], 64, (), [0, 0, 100]),
    ],
)
def test_totals(readings, bits, restarts, expected):
    got = totals(readings, bits, restarts)
    assert got == expected
    assert got == sorted(got), "an exported counter went backwards"


def test_a_restart_is_seen_from_sysuptime():
    t = CounterTotals()
    assert t.restarted("ce", 1000.0, 50_000.0) is False  # first reading: nothing to compare
    assert t.restarted("ce", 1060.0, 50_060.0) is False  # up 60 s more in 60 s
    assert t.restarted("ce", 1120.0, 30.0) is True  # sysUpTime went back
    assert t.restarted("ce", 1180.0, 90.0) is False
    # up 20 s although 600 s passed since our reading (it restarted in a gap of no answers)
    assert t.restarted("ce", 1780.0, 20.0) is True
    # without sysUpTime nothing is concluded
    assert t.restarted("ce", 1840.0, None) is False
    # another device's clock is its own
    assert t.restarted("other", 1840.0, 5.0) is False
    # sysUpTime wraps after 497 days (2^32 ticks): a wrap advances by the time that passed
    t.restarted("old", 0.0, (W32 - 3000) / 100)
    assert t.restarted("old", 60.0, 3000 / 100) is False
