"""The SLA report end to end on both stores: a month written through the real repositories,
read back by ``noc sla report`` (json, csv, md, table) and by ``GET /api/v1/sla``.

September 2026 (30 days, Asia/Shanghai) holds the contract scenario of docs/sla.md: two level-I
failures of voice-intake (10 min automatic, 3 h manual), a planned 2 h on mstp-voice, a level-IV
phones incident, 20 min of a DOWN check on voice-gw (evidence, not downtime), and a window
entered after the fact over A that must not erase it. Every expected figure is arithmetic.
The service watched every check from 08-01 to 10-01 (a run written as the watch writes it), so
every second of September is monitored; a fresh store, or a 2-day stop, reads differently.
The windows are approved by a second person; an unapproved one excuses nothing (issue 12).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from support.auth import authorize
from support.coverage import watched

from noc.app import create_app
from noc.config import DEFAULT_CONFIG, load_config
from noc.engine.incidents import ActiveIncident, Change
from noc.store import Store
from noc.store.incidents import IncidentRepo
from noc.store.tables import Incident, MaintenanceWindow

SH = ZoneInfo("Asia/Shanghai")
HOUR = 3600
DAY = dt.timedelta(days=1)
OPERATING = 30 * 86400 - 2 * HOUR  # 2,584,800 s: September minus the planned 2 h
DOWNTIME = 10 * 60 + 3 * HOUR  # 11,400 s
AVAILABILITY = round((OPERATING - DOWNTIME) / OPERATING, 9)  # 0.995589601


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, minute, second, tzinfo=SH).astimezone(dt.UTC)


def _incident(
    key: str, type_: str, root: str, level: str, service: str, start: dt.datetime
) -> ActiveIncident:
    return ActiveIncident(
        key=key,
        type=type_,
        root_asset=root,
        fault_class="outage",
        severity=level,
        peak_severity=level,
        impact="critical",
        fault_started_at=start.timestamp(),
        detected_at=start.timestamp() + 20,
        members={root},
        services=[{"service": service, "full": True, "impact": "critical", "down": [root]}],
    )


async def write_scenario(
    db_url: str, watching: bool = True, approve: bool = True
) -> dict[str, int]:
    store = await Store.open(db_url)
    repo = IncidentRepo(store, "lingshui")
    ids: dict[str, int] = {}
    try:
        if watching:  # every check watched from 08-01 to 10-01 (the rolling 30 days included)
            config = load_config(DEFAULT_CONFIG)
            await watched(store, config, at(1, 0) - dt.timedelta(days=31), at(30, 0) + DAY)

        async def opened(name, inc, alarm_after):
            book = {inc.key: inc}
            await repo.apply(
                [Change("opened", inc.key, inc.detected_at, {"runbook": "mstp-circuit-down"})], book
            )
            ids[name] = inc.id
            async with (
                store.sessions.begin() as session
            ):  # what the outbox records on first delivery
                await session.execute(
                    update(Incident)
                    .where(Incident.id == inc.id)
                    .values(
                        alarmed_at=dt.datetime.fromtimestamp(
                            inc.fault_started_at + alarm_after, dt.UTC
                        )
                    )
                )
            return book

        # A: 09-05 10:00, level I, recovers by itself after 10 min; alarmed after 30 s, never acknowledged
        a = _incident(
            "circuit_down:mstp-voice", "circuit_down", "mstp-voice", "I", "voice-intake", at(5, 10)
        )
        book = await opened("a", a, 30)
        await repo.apply(
            [
                Change(
                    "recovered",
                    a.key,
                    at(5, 10, 10).timestamp(),
                    {"recovery_kind": "automatic", "id": a.id},
                )
            ],
            book,
        )
        # B: 09-20 09:00, level I, alarmed after 90 s, acknowledged after 2 min, fixed by hand after 3 h
        b = _incident(
            "circuit_down:mstp-voice", "circuit_down", "mstp-voice", "I", "voice-intake", at(20, 9)
        )
        await opened("b", b, 90)
        await repo.acknowledge(b.id, "值班员", at=at(20, 9, 2))
        await repo.resolve(b.id, "值班员", "更换光模块", at=at(20, 12))
        # C: 09-25, level IV on the office phones, 1 h, automatic
        c = _incident(
            "phones_unreachable:lingshui",
            "phones_unreachable",
            "phone-01",
            "IV",
            "staff-phones",
            at(25, 14),
        )
        book = await opened("c", c, 60)
        await repo.apply(
            [
                Change(
                    "recovered",
                    c.key,
                    at(25, 15).timestamp(),
                    {"recovery_kind": "automatic", "id": c.id},
                )
            ],
            book,
        )
        # planned on 09-09 for 09-10 02:00 → 04:00 (the store stamps created_at with the wall clock: set it)
        planned = await store.add_maintenance(
            site="lingshui",
            assets=["mstp-voice"],
            starts_at=at(10, 2),
            ends_at=at(10, 4),
            reason="运营商割接",
            created_by="张三",
        )
        # entered after the fact (at 10:30) for 09:00 → 10:20 on 09-05: it must not erase A (10:00 → 10:10)
        late = await store.add_maintenance(
            site="lingshui",
            assets=["mstp-voice"],
            starts_at=at(5, 9),
            ends_at=at(5, 10, 20),
            reason="补录",
            created_by="李四",
        )
        if approve:  # a second person approved both: only then they count (issue 12)
            for window in (planned, late):
                await store.approve_maintenance(window.id, "王五", at(9, 16))
        async with store.sessions.begin() as session:
            for row_id, created in ((planned.id, at(9, 15)), (late.id, at(5, 10, 30))):
                await session.execute(
                    update(MaintenanceWindow)
                    .where(MaintenanceWindow.id == row_id)
                    .values(created_at=created)
                )
        for to, frm, when in (("DOWN", "UP", at(12, 10)), ("UP", "DOWN", at(12, 10, 20))):
            await store.append_transition(
                site="lingshui",
                asset="voice-gw",
                check="icmp",
                from_state=frm,
                to_state=to,
                at=when,
            )
    finally:
        await store.close()
    return ids


def check_voice(row: dict, ids: dict[str, int]) -> None:
    assert row["scope"] == "service:voice-intake" and row["period"] == "2026-09"
    assert (
        row["start_local"] == "2026-09-01T00:00:00+08:00"
        and row["end_local"] == "2026-10-01T00:00:00+08:00"
    )
    assert row["operating_seconds"] == OPERATING and row["maintenance_seconds"] == 2 * HOUR
    assert row["downtime_seconds"] == DOWNTIME
    assert row["availability_ratio"] == AVAILABILITY
    assert row["failures"] == 2 and row["level_iv"] == 0
    # up time ÷ failures (issue 11, 9a): 1,286,700 s = 357.4 h
    assert row["mtbf_seconds"] == (OPERATING - DOWNTIME) / 2 and row["mtbf_lower_bound"] is False
    assert row["mtbf_meets_target"] is False
    assert row["mttr_seconds"] == {"automatic": 600, "manual": 3 * HOUR}
    assert row["breaches"] == []
    assert row["alarm_delay_seconds"] == {"p50": (30 + 90) / 2, "max": 90, "count": 2}
    # deadline for level I in mstp-circuit-down: acknowledge within 300 s of detection (+20 s):
    # A was never acknowledged and recovered at +600 s (late), B at +120 s (on time)
    assert row["response"] == {"due": 2, "on_time": 1, "timeliness_ratio": 0.5}
    assert [f["incident_id"] for f in row["failure_list"]] == [ids["a"], ids["b"]]
    # watched all month: full coverage, nothing found at a restart
    assert row["coverage"]["status"] == "ok" and row["coverage"]["ratio"] == 1
    assert row["coverage"]["monitored_seconds"] == OPERATING
    assert row["coverage"]["found_at_start"] == []


def noc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "noc", "sla", "report", "--config", str(DEFAULT_CONFIG), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def test_cli_report_in_every_format(db_url):
    ids = asyncio.run(write_scenario(db_url))
    out = noc("--period", "2026-09", "--scope", "all", "--format", "json", "--db", db_url)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    rows = {r["scope"]: r for r in doc["rows"]}
    check_voice(rows["service:voice-intake"], ids)
    site = rows["site:lingshui"]
    assert (site["failures"], site["level_iv"], site["downtime_seconds"]) == (2, 1, DOWNTIME)
    # voice-gw: not under the mstp-voice window (nothing it depends on); its icmp check was DOWN 20 min
    # but no incident of level I–III covers it: check transitions are evidence, not downtime
    gw = rows["asset:voice-gw"]
    assert (gw["operating_seconds"], gw["downtime_seconds"], gw["failures"]) == (30 * 86400, 0, 0)
    # phone-01: its level-IV incident (1 h) is counted apart and costs no availability
    phone = rows["asset:phone-01"]
    assert (phone["downtime_seconds"], phone["failures"], phone["level_iv"]) == (0, 0, 1)
    assert rows["service:ticket-exchange"]["availability_ratio"] == 1.0
    assert rows["service:ticket-exchange"]["mtbf_lower_bound"] is True

    csv_text = noc("--period", "2026-09", "--format", "csv", "--db", db_url).stdout
    assert csv_text.startswith("\ufeff")  # UTF-8 with a BOM, for spreadsheets
    table = list(csv.DictReader(io.StringIO(csv_text.removeprefix("\ufeff"))))
    voice = next(r for r in table if r["scope"] == "service:voice-intake")
    assert (
        voice["period"] == "2026-09"
        and voice["failures"] == "2"
        and voice["downtime_seconds"] == str(float(DOWNTIME))
    )
    assert voice["availability_percent"] == str(round(AVAILABILITY * 100, 4))
    # up time ÷ failures: (2,584,800 − 11,400) / 2 / 3,600 = 357.4166… h, shown truncated
    assert voice["mtbf_hours"] == "357.416"

    md = noc(
        "--period",
        "2026-09",
        "--scope",
        "service:voice-intake",
        "--format",
        "md",
        "--lang",
        "en",
        "--db",
        db_url,
    ).stdout
    assert "| scope | availability % |" in md
    assert (
        f"| service:voice-intake | {round(AVAILABILITY * 100, 4)} | 718.0 | 11400.0 | 2 | 0 | 357.416 | 600.0 | 10800.0 | 0 |"
        in md
    )

    text = noc("--period", "2026-09", "--scope", "site", "--db", db_url)
    assert (
        text.returncode == 0
        and "SLA 报表 lingshui 2026-09" in text.stdout
        and "可用率%" in text.stdout
    )
    assert "site:lingshui" in text.stdout and "超时明细 breaches: -" in text.stdout


async def _migrated(db_url: str) -> None:
    """A fresh store: created and migrated (what `noc db upgrade` leaves), nothing recorded."""
    store = await Store.open(db_url)
    await store.close()


def test_a_fresh_store_reports_no_data_and_never_meets(db_url):
    asyncio.run(_migrated(db_url))
    out = noc("--period", "2025-11", "--db", db_url)
    assert out.returncode == 0, out.stderr
    assert "无监测数据 no data" in out.stdout and "meets" not in out.stdout
    assert "≥" not in out.stdout  # no MTBF lower bound either: nothing was observed
    en = noc("--period", "2025-11", "--lang", "en", "--db", db_url)
    assert en.returncode == 0 and "no data" in en.stdout and "meets" not in en.stdout
    doc = json.loads(noc("--period", "2025-11", "--format", "json", "--db", db_url).stdout)
    for row in doc["rows"]:
        assert row["coverage"]["status"] == "no_data"
        assert row["coverage"]["unmonitored_seconds"]["not_running"] == 30 * 86400
        assert row["availability_ratio"] is None and row["mtbf_seconds"] is None
        assert row["mtbf_meets_target"] is None


async def _two_day_stop(db_url: str) -> dict[str, int]:
    """The September scenario, watched except 09-14 00:00 → 09-16 00:00 (the service stopped)."""
    ids = await write_scenario(db_url, watching=False)
    store = await Store.open(db_url)
    try:
        config = load_config(DEFAULT_CONFIG)
        await watched(store, config, at(1, 0), at(14, 0))
        await watched(store, config, at(16, 0), at(30, 0) + DAY)
    finally:
        await store.close()
    return ids


def test_a_two_day_stop_lowers_coverage_and_counts_monitored_time_only(db_url):
    ids = asyncio.run(_two_day_stop(db_url))
    out = noc(
        "--period", "2026-09", "--scope", "service:voice-intake", "--format", "json", "--db", db_url
    )
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)["rows"]
    monitored = OPERATING - 48 * HOUR  # 670 h of the 718 h scheduled
    assert row["coverage"]["status"] == "insufficient"
    assert row["coverage"]["ratio"] == round(monitored / OPERATING, 9) < 1
    assert row["coverage"]["unmonitored_seconds"]["not_running"] == 48 * HOUR
    assert row["operating_seconds"] == monitored and row["downtime_seconds"] == DOWNTIME
    assert row["availability_ratio"] == round((monitored - DOWNTIME) / monitored, 9)
    # up time ÷ failures: the watched 670 h minus the downtime (the stop is not up time either)
    assert row["up_seconds"] == monitored - DOWNTIME
    assert row["mtbf_seconds"] == (monitored - DOWNTIME) / 2 and row["failures"] == 2
    assert [f["incident_id"] for f in row["failure_list"]] == [ids["a"], ids["b"]]
    table = noc("--period", "2026-09", "--db", db_url)
    assert table.returncode == 0 and "监测覆盖不足 insufficient coverage" in table.stdout


def test_cli_refuses_bad_period_and_scope(sqlite_url):
    bad = noc("--period", "2026-13", "--db", sqlite_url)
    assert bad.returncode == 2 and "month must be in 1..12" in bad.stderr
    bad = noc("--period", "2026-09", "--scope", "service:nope", "--db", sqlite_url)
    assert bad.returncode == 2 and "unknown service 'nope'" in bad.stderr
    bad = noc("--period", "2026-09", "--scope", "circuit", "--db", sqlite_url)
    assert bad.returncode == 2 and "cannot read scope 'circuit'" in bad.stderr


@pytest.fixture
async def client(db_url, aiohttp_client, lingshui_config):  # the app stops before its db goes
    ids = await write_scenario(db_url)
    client = await aiohttp_client(create_app(lingshui_config, db_url, probing=False))
    await authorize(client, "viewer")
    client.ids = ids
    return client


async def test_api_report(client):
    resp = await client.get(
        "/api/v1/sla", params={"period": "2026-09", "scope": "service:voice-intake"}
    )
    assert resp.status == 200
    doc = await resp.json()
    assert doc["targets"]["mtbf_seconds"] == 600 * HOUR and doc["timezone"] == "Asia/Shanghai"
    assert len(doc["rows"]) == 1
    check_voice(doc["rows"][0], client.ids)
    week = await (
        await client.get(
            "/api/v1/sla", params={"period": "2026-W38", "scope": "service:voice-intake"}
        )
    ).json()
    # ISO week 38 of 2026 is Mon 09-14 … Sun 09-20 (site time): B started 09-20 09:00, within it
    assert week["rows"][0]["failures"] == 1 and week["rows"][0]["downtime_seconds"] == 3 * HOUR
    span = await (
        await client.get(
            "/api/v1/sla",
            params={
                "from": "2026-09-05T10:05",
                "to": "2026-09-05T11:00",
                "scope": "service:voice-intake",
            },
        )
    ).json()
    assert span["rows"][0]["downtime_seconds"] == 5 * 60  # A clipped at the span's start


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"period": "2026-13"}, 400, "month must be in 1..12"),
        ({}, 400, "give period"),
        ({"period": "2026-09", "scope": "nope"}, 400, "cannot read scope"),
        ({"period": "2026-09", "scope": "service:nope"}, 404, "unknown service 'nope'"),
        ({"period": "2026-09", "scope": "asset:ghost"}, 404, "unknown asset 'ghost'"),
    ],
)
async def test_api_refuses_bad_requests(
    aiohttp_client, lingshui_config, sqlite_url, params, status, reason
):
    client = await aiohttp_client(create_app(lingshui_config, sqlite_url, probing=False))
    await authorize(client, "viewer")
    resp = await client.get("/api/v1/sla", params=params)
    assert resp.status == status
    assert reason in (await resp.json())["reason"]


async def test_current_snapshot_for_the_metrics(db_url, lingshui_config):
    from incident_runbooks.loader import load_runbooks
    from sla.report import current_snapshot

    await write_scenario(db_url)
    now = at(20, 13)  # an hour after B was fixed
    store = await Store.open(db_url)
    try:
        snap = await current_snapshot(store, lingshui_config, load_runbooks(), now)
    finally:
        await store.close()
    checked = {a.name for a, _ in lingshui_config.iter_checks()}
    assert len(snap.rows) == 2 * (1 + len(lingshui_config.services) + len(checked))
    rows = {(r.window, r.scope): r for r in snap.rows}
    month = rows[("month", "service:voice-intake")]
    # 09-01 00:00 → 09-20 13:00 is 19 d 13 h, minus the planned 2 h
    operating = 19 * 86400 + 13 * HOUR - 2 * HOUR
    assert month.availability_ratio == pytest.approx((operating - DOWNTIME) / operating, abs=1e-12)
    assert month.failures == 2 and month.mtbf_seconds == (operating - DOWNTIME) / 2
    assert month.mttr_seconds == {"automatic": 600, "manual": 3 * HOUR}
    assert month.breaches == {"automatic": 0, "manual": 0}
    assert (
        month.alarm_delay_seconds == {"0.5": 60, "1": 90} and month.response_timeliness_ratio == 0.5
    )
    # B's last hour (11:00 → 12:00) is inside the 2 h lookback ending 13:00; nothing in the last hour
    assert month.burn_rate["1h"] == 0 and month.burn_rate["2h"] == pytest.approx(
        HOUR / 7200 / 0.001
    )
    rolling = rows[("30d", "service:voice-intake")]
    assert rolling.failures == 2
    assert rolling.availability_ratio == pytest.approx(
        (30 * 86400 - 2 * HOUR - DOWNTIME) / (30 * 86400 - 2 * HOUR)
    )
    assert snap.targets.mttr_seconds == {"automatic": 900, "manual": 86400}


async def test_unapproved_maintenance_leaves_the_sla_as_it_was(db_url, lingshui_config):
    """Issue 12: a window mutes alerts once a lead creates it, but takes a failure out of the
    SLA only after a second person approves it; until then the report lists it. A recovery
    whose kind rests on an overridden intervention flag is listed with the lead's reason.
    (The scenario and its figures: ``support.sla_window``; the console is held to the same.)"""
    from support import sla_window as sw

    from noc.identity import Actor
    from noc.store.operator_acts import OperatorActs
    from sla.render import render

    store = await Store.open(db_url)
    try:
        lead = Actor("zhang", "lead", "api", "192.0.2.1", credential="session:1")
        acts = OperatorActs(store, "lingshui")
        window = await acts.add_maintenance(lead, sw.ASSETS, *sw.WINDOW, "割接")
        await sw.planned_the_day_before(store, window.id)

        async def nothing_changed(incident_id: int) -> None:
            # a lead says the repair step changed nothing, so the recovery is automatic
            await acts.record_step(
                lead, incident_id, "local-fix", "看了配置", False, True, "未改动设备"
            )

        incident_id = await sw.fault_inside(store, lingshui_config, nothing_changed)
        unapproved, report = await sw.voice_september(store, lingshui_config)
        sw.assert_not_excused(unapproved, window.id)
        [overridden] = unapproved["overridden_recoveries"]
        assert overridden["incident_id"] == incident_id
        assert overridden["recovery_kind"] == "automatic"
        assert [(o["step"], o["intervention"], o["reason"], o["by"])
                for o in overridden["overrides"]] == [("local-fix", False, "未改动设备", "zhang")]  # fmt: skip
        text = render([report], lingshui_config, "table", "en", sw.at(30, 23))
        assert "unapproved maintenance (not excused):" in text and f"#{window.id}" in text
        assert "overridden recoveries:" in text and "未改动设备" in text

        second = Actor("li", "lead", "api", "192.0.2.2", credential="session:2")
        await acts.approve_maintenance(second, window.id)
        approved, _ = await sw.voice_september(store, lingshui_config)
        sw.assert_excused(approved)
    finally:
        await store.close()
