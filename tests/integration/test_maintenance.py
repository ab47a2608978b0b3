"""Maintenance windows through the API and the CLI, on both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.stores import create_store

from noc.app import create_app


@pytest.fixture
async def client(aiohttp_client, lingshui_config, db_url):
    return await aiohttp_client(create_app(lingshui_config, db_url, probing=False))


async def test_plan_list_and_end_a_window(client):
    resp = await client.post(
        "/api/v1/maintenance",
        json={
            "assets": ["mstp-voice", "mstp-voice"],
            "starts_at": "2030-01-01 02:00",
            "duration": "2h",
            "reason": "运营商割接",
            "by": "张三",
        },
    )
    assert resp.status == 201
    window = await resp.json()
    assert window["assets"] == ["mstp-voice"]
    assert window["starts_at"] == "2029-12-31T18:00:00+00:00"  # 02:00 Asia/Shanghai
    assert (
        window["starts_at_local"] == "2030-01-01T02:00+08:00"
        and window["ends_at_local"] == "2030-01-01T04:00+08:00"
    )
    assert not window["active"] and not window["entered_late"]
    assert window["sla_counts_from"] == window["starts_at"]
    now = await client.post(
        "/api/v1/maintenance",
        json={"assets": ["phone-01"], "duration": "30m", "reason": "更换话机", "by": "李四"},
    )
    current = await now.json()
    assert current["active"]
    active = await (await client.get("/api/v1/maintenance", params={"active": "true"})).json()
    assert [w["id"] for w in active["windows"]] == [current["id"]]
    ended = await client.post(f"/api/v1/maintenance/{current['id']}/end")
    assert ended.status == 200 and (await ended.json())["ended_at"]
    again = await client.post(f"/api/v1/maintenance/{current['id']}/end")
    assert again.status == 409
    assert (await (await client.get("/api/v1/maintenance")).json())["count"] == 2


async def test_a_window_entered_after_it_started_says_the_sla_counts_it_only_from_then(client):
    resp = await client.post(
        "/api/v1/maintenance",
        json={
            "assets": ["mstp-ticket"],
            "starts_at": "2026-01-05 09:00",
            "duration": "2h",
            "reason": "补录",
            "by": "张三",
        },
    )
    window = await resp.json()
    assert resp.status == 201 and window["entered_late"]
    assert window["sla_counts_from"] > window["starts_at"]  # from when it was entered, not 09:00


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"assets": ["nope"], "duration": "1h"}, "unknown asset(s): nope"),
        ({"assets": [], "duration": "1h"}, "name at least one asset"),
        ({"assets": "mstp-voice", "duration": "1h"}, "assets must be a list"),
        ({"assets": ["internet"]}, "exactly one of an end time or a duration"),
        ({"assets": ["internet"], "duration": "soon"}, "duration 'soon'"),
        (
            {
                "assets": ["internet"],
                "starts_at": "2030-01-01T04:00",
                "ends_at": "2030-01-01T03:00",
            },
            "must end after it starts",
        ),
        (
            {"assets": ["internet"], "starts_at": "tomorrow", "duration": "1h"},
            "cannot read time 'tomorrow'",
        ),
    ],
)
async def test_bad_requests_are_refused_with_a_reason(client, body, reason):
    resp = await client.post("/api/v1/maintenance", json={**body, "by": "张三", "reason": "x"})
    assert resp.status == 400
    assert reason in (await resp.json())["reason"]
    assert (await (await client.get("/api/v1/maintenance")).json())["count"] == 0


def test_cli(sqlite_url):
    create_store(sqlite_url)  # `noc maintenance` never creates one

    def noc(*args):
        return subprocess.run(
            [sys.executable, "-m", "noc", "maintenance", *args, "--db", sqlite_url],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ.copy(),
        )

    added = noc(
        "add",
        "--assets",
        "internet,ce-router",
        "--duration",
        "1h",
        "--reason",
        "割接",
        "--by",
        "张三",
    )
    assert added.returncode == 0, added.stderr
    assert "ce-router, internet" in added.stdout
    bad = noc("add", "--assets", "ghost", "--duration", "1h", "--reason", "x", "--by", "y")
    assert bad.returncode == 2 and "unknown asset(s): ghost" in bad.stderr
    late = noc(
        "add",
        "--assets",
        "internet",
        "--start",
        "2026-01-05 09:00",
        "--duration",
        "1h",
        "--reason",
        "补录",
        "--by",
        "张三",
    )
    assert late.returncode == 0 and "SLA 只从登记时起扣除" in late.stderr
    assert "SLA" not in added.stderr
    listed = json.loads(noc("list", "--active", "--json").stdout)
    assert len(listed) == 1 and listed[0]["active"]
    assert noc("end", str(listed[0]["id"])).returncode == 0
    assert noc("end", str(listed[0]["id"])).returncode == 1
    assert json.loads(noc("list", "--active", "--json").stdout) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # 02:00 at +08:00 on the first day of year 1 is before year 1 in UTC: it used to overflow
        # (OverflowError: a 500 here, a traceback in the CLI)
        (
            {"starts_at": "0001-01-01T02:00", "duration": "1h"},
            "cannot read time '0001-01-01T02:00'",
        ),
        ({"starts_at": "2030-01-01T02:00", "ends_at": "9999-12-31T23:00-05:00"}, "out of range"),
        ({"starts_at": "9999-12-31T23:00", "duration": "20h"}, "ends after the year 9999"),
        ({"starts_at": 20300101, "duration": "1h"}, "not a string"),
    ],
)
async def test_instants_out_of_range_are_a_400_with_a_reason(client, body, reason):
    resp = await client.post(
        "/api/v1/maintenance", json={**body, "assets": ["internet"], "by": "张三", "reason": "x"}
    )
    assert resp.status == 400
    answer = await resp.json()
    assert answer["error"] == "bad_request" and reason in answer["reason"]
    assert (await (await client.get("/api/v1/maintenance")).json())["count"] == 0


def test_cli_refuses_an_instant_out_of_range_in_one_line(sqlite_url):
    create_store(sqlite_url)
    bad = subprocess.run(
        [sys.executable, "-m", "noc", "maintenance", "add", "--assets", "internet"]
        + ["--start", "0001-01-01T02:00", "--duration", "1h", "--reason", "x", "--by", "y"]
        + ["--db", sqlite_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "cannot read time '0001-01-01T02:00': out of range" in bad.stderr
