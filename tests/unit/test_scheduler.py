"""Scheduler behaviour with probe kinds made for the test (no network)."""

from __future__ import annotations

import asyncio
import random

import pytest

from noc.engine.observe import CheckRef
from noc.runtime.planning import PlannedCheck
from noc.runtime.scheduler import Scheduler
from probes.base import ProbeResult, ResultCode, Target
from probes.icmp import IcmpParams
from probes.icmp.params import confirmation
from probes.kind import ProbeKind
from probes.probeset import ProbeSet, probe_kind

CALLS: dict[str, int] = {}


async def _fast(target: Target, params) -> ProbeResult:
    CALLS[target.asset] = CALLS.get(target.asset, 0) + 1
    return ProbeResult.success(kind="test-fast")


async def _hang(target: Target, params) -> ProbeResult:
    CALLS[target.asset] = CALLS.get(target.asset, 0) + 1
    await asyncio.sleep(3600)
    raise AssertionError("never")


async def _crash(target: Target, params) -> ProbeResult:
    raise RuntimeError("bug in a probe")


class _Client:
    """A client whose probe is one of the functions above."""

    def __init__(self, probe) -> None:
        self.probe = probe

    async def aclose(self) -> None:
        pass


def _kind(name: str, probe, confirm=None) -> ProbeKind:
    extra = {"confirm": confirm} if confirm else {}
    return ProbeKind(name, client=lambda: _Client(probe), deadline=lambda params: 0.2, **extra)


PROBES = ProbeSet(
    [_kind("test-fast", _fast), _kind("test-hang", _hang), _kind("test-crash", _crash)]
)


def plan(asset: str, kind: str, interval: float = 0.05, deadline: float = 0.2) -> PlannedCheck:
    return PlannedCheck(
        CheckRef(asset, "c", kind, "router"),
        kind,
        Target("127.0.0.1", asset=asset),
        None,
        interval,
        deadline,
    )


async def test_a_hung_probe_delays_nothing_else_and_becomes_a_timeout():
    CALLS.clear()
    results: dict[str, list[ProbeResult]] = {}

    async def sink(ref, result):
        results.setdefault(ref.asset, []).append(result)

    sched = Scheduler(
        [plan("fast", "test-fast"), plan("hung", "test-hang", deadline=0.3)],
        sink,
        lambda key: False,
        probes=PROBES,
        rng=random.Random(1),
    )
    await sched.start()
    while len(results.get("hung", [])) < 1:
        await asyncio.sleep(0.05)
    await sched.stop()
    assert len(results["fast"]) >= 3  # kept running while the other hung
    assert results["hung"][0].result is ResultCode.TIMEOUT
    assert "deadline" in results["hung"][0].reason
    assert (
        results["hung"][0].duration_seconds >= 0.3
    )  # it held its slot for the whole deadline (was 0)


async def test_a_crashing_probe_is_an_error_result_and_the_loop_goes_on():
    results = []

    async def sink(ref, result):
        results.append(result)

    sched = Scheduler(
        [plan("x", "test-crash")], sink, lambda key: False, probes=PROBES, rng=random.Random(2)
    )
    await sched.start()
    while len(results) < 2:
        await asyncio.sleep(0.02)
    await sched.stop()
    assert all(r.result is ResultCode.ERROR and "bug in a probe" in r.reason for r in results)


async def test_pending_checks_are_reprobed_at_the_confirmation_spacing():
    CALLS.clear()
    pending = {"on": False}

    async def sink(ref, result):
        pass

    # an interval of an hour: only confirmation runs can happen during the test
    sched = Scheduler(
        [plan("a", "test-fast", interval=3600)],
        sink,
        lambda key: pending["on"],
        probes=PROBES,
        confirm_spacing=0.01,
        rng=random.Random(3),
    )
    sched.rng.uniform = lambda a, b: 0.0  # first run at once
    await sched.start()
    while CALLS.get("a", 0) < 1:
        await asyncio.sleep(0.01)
    pending["on"] = True
    sched.kick([("a", "c")])
    while CALLS.get("a", 0) < 5:
        await asyncio.sleep(0.01)
    pending["on"] = False
    await sched.stop()
    assert CALLS["a"] >= 5


async def test_kick_wakes_only_the_named_checks():
    CALLS.clear()

    async def sink(ref, result):
        pass

    sched = Scheduler(
        [plan("a", "test-fast", interval=3600), plan("b", "test-fast", interval=3600)],
        sink,
        lambda key: False,
        probes=PROBES,
        rng=random.Random(4),
    )
    sched.rng.uniform = lambda a, b: 0.0
    await sched.start()
    while CALLS.get("a", 0) < 1 or CALLS.get("b", 0) < 1:
        await asyncio.sleep(0.01)
    assert sched.kick([("a", "c"), ("zz", "c")]) == 1
    while CALLS.get("a", 0) < 2:
        await asyncio.sleep(0.01)
    await sched.stop()
    assert CALLS["b"] == 1


async def test_confirmation_reprobes_use_the_kinds_confirmation_params():
    CALLS.clear()
    seen = []

    async def probe(target, params):
        seen.append(params)
        return ProbeResult.success(kind="test-confirm")

    probes = ProbeSet(
        [
            _kind(
                "test-confirm",
                probe,
                confirm=lambda params, rtt: {"confirming": params, "rtt": rtt},
            )
        ]
    )
    pending = {"on": False}

    async def sink(ref, result):
        pass

    sched = Scheduler(
        [plan("a", "test-confirm", interval=3600)],
        sink,
        lambda key: pending["on"],
        probes=probes,
        confirm_spacing=0.01,
        recent_rtt=lambda key: 0.003,
        rng=random.Random(5),
    )
    sched.rng.uniform = lambda a, b: 0.0
    await sched.start()
    while len(seen) < 1:
        await asyncio.sleep(0.01)
    pending["on"] = True
    sched.kick([("a", "c")])
    while len(seen) < 2:
        await asyncio.sleep(0.01)
    await sched.stop()
    assert seen[0] is None  # an ordinary run: the check's own params
    assert seen[1] == {"confirming": None, "rtt": 0.003}


def test_confirmation_waits_in_proportion_to_the_line_round_trip():
    params = IcmpParams(count=3, interval="50ms", timeout="500ms")
    assert confirmation(params).timeout == 0.5  # nothing known yet
    assert confirmation(params, 0.002).timeout == 0.1  # 2 ms line: the floor
    assert confirmation(params, 0.060).timeout == pytest.approx(0.24)  # congested: 4 × 60 ms
    assert confirmation(params, 0.300).timeout == 0.5  # never beyond the check's own
    assert confirmation(params, 0.002).count == 5
    assert probe_kind("icmp").confirm is confirmation
    assert probe_kind("sip").confirm(params, 0.002) is params  # other kinds re-probe as planned
    assert probe_kind("snmp").confirm(params, 0.002) is params
