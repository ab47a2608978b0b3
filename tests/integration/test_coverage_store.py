"""Monitoring coverage in the store, on both backends: the watch's runs and stretches of fresh
results written through the real repository (a clean stop, a crash, a gap of stale results),
read back by the SLA; and the service recording its own run while it probes 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from noc.app import create_app
from noc.config import parse_config
from noc.runtime.planning import plan_all
from noc.runtime.watch import Watch
from noc.store import Store
from noc.store.coverage import CoverageRepo
from sla.compute import Inputs, Scope
from sla.coverage import CoverageFacts, monitored_operating
from sla.facts import load_inputs

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC).timestamp()
A, B = ("a", "icmp"), ("b", "sip")


def t(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(T0 + seconds, dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


async def test_runs_stretches_a_crash_and_a_clean_stop(db_url):
    store = await Store.open(db_url)
    clock = Clock()
    try:
        # run 1: a every second (stale after 3 s), b every 30 s (stale after 90 s)
        first = Watch(CoverageRepo(store), "lab", {A: 3.0, B: 90.0}, heartbeat=3600, clock=clock)
        await first.start()
        for s in range(1, 10):
            first.observe(A, T0 + s, True)
        first.observe(B, T0 + 1, True)
        clock.now = T0 + 10
        await first.beat()
        for s in range(20, 30):  # 11 s without a result: a new stretch, its first results bad
            first.observe(A, T0 + s, ok=s >= 22)
        first.observe(B, T0 + 25, True)
        clock.now = T0 + 30
        await first.beat()
        first._task.cancel()  # the process dies: no stop, the last heartbeat (T0+30) ends the run

        clock.now = T0 + 100
        second = Watch(CoverageRepo(store), "lab", {A: 3.0, B: 90.0}, heartbeat=3600, clock=clock)
        await second.start()
        for s in range(101, 110):
            second.observe(A, T0 + s, True)
        clock.now = T0 + 110
        await second.stop()

        inputs = await load_inputs(store, t(0), t(200))
    finally:
        await store.close()

    cover = inputs.coverage
    assert [(r.started_at, r.ended_at, r.stopped) for r in cover.runs] == [
        (t(0), t(30), False),  # the crash: ended at its last heartbeat
        (t(100), t(110), True),
    ]
    stretches = sorted((f.key, f.since, f.until, f.first_ok_at) for f in cover.fresh)
    assert stretches == [
        (A, t(1), t(9), t(1)),
        (A, t(20), t(29), t(22)),  # as of the last heartbeat before the crash
        (A, t(101), t(109), t(101)),
        (B, t(1), t(25), t(1)),
    ]
    facts = CoverageFacts(cover.runs, cover.fresh, {"a": frozenset({"icmp"})})
    scope = Scope("asset", "a", frozenset({"a"}), frozenset())
    watched, _ = monitored_operating(Inputs(coverage=facts), scope, t(0), t(200), [])
    assert watched.monitored_seconds == 8 + 9 + 8
    assert watched.unmonitored_seconds == {
        "not_running": 200 - 30 - 10,
        "not_configured": 0,
        "stale": 30 + 10 - 25,
    }


def live_config():
    hook = "json://127.0.0.1:9/coverage"  # port 9 (discard): never delivered
    return parse_config(
        f"""
site: {{name: ctest, title: {{zh: 覆盖测试, en: coverage test}}}}
assets:
  - name: loop
    kind: router
    address: 127.0.0.1
    checks: [{{type: icmp, interval: 200ms, params: {{count: 1, timeout: 500ms}}}}]
sla:
  coverage: {{heartbeat: 300ms}}
alerting:
  receivers:
    - {{name: noc-oncall, urls: ["{hook}"]}}
    - {{name: noc-lead, urls: ["{hook}"]}}
    - {{name: carrier-liaison, urls: ["{hook}"]}}
    - {{name: purchaser-contact, urls: ["{hook}"]}}
""",
        "coverage-test.yaml",
    )


@pytest.mark.root
async def test_the_service_records_its_run_and_fresh_results(sqlite_url, aiohttp_client):
    config = live_config()
    client = await aiohttp_client(create_app(config, sqlite_url, probing=True))
    started = dt.datetime.now(dt.UTC)
    store = await Store.open(sqlite_url)
    try:
        repo = CoverageRepo(store)
        for _ in range(100):  # the heartbeat writes the loop's stretch within a second or so
            rows = await repo.rows(started - dt.timedelta(minutes=1), started + dt.timedelta(1))
            if rows.stretches and rows.stretches[0].until > rows.stretches[0].since:
                break
            await asyncio.sleep(0.1)
        [run] = rows.runs
        assert run.stopped_at is None and [c["check"] for c in run.checks] == ["icmp"]
        # stale after 3 × 200 ms plus the probe's deadline (a dead target's probe runs to it)
        [plan] = plan_all(config)
        assert run.checks[0]["stale_after"] == pytest.approx(0.6 + plan.deadline)
        [stretch] = rows.stretches
        assert (stretch.asset, stretch.check, stretch.closed) == ("loop", "icmp", False)
        assert stretch.first_ok_at is not None

        await client.close()  # a clean stop: the run ends, its stretch is closed
        rows = await repo.rows(started - dt.timedelta(minutes=1), started + dt.timedelta(1))
        [run] = rows.runs
        [stretch] = rows.stretches
        assert run.stopped_at is not None and stretch.closed
        assert run.started_at <= stretch.since < stretch.until <= run.stopped_at
    finally:
        await store.close()
