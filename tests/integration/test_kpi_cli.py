"""``noc staff|emergency|report submit`` and ``noc kpi report|scorecard`` on SQLite and
PostgreSQL, with hand-made records and hand-computed figures (docs/kpi.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support.calls import HASH_KEY
from support.stores import create_store

_CREATED: set[str] = set()


def noc(db_url, *args):
    if db_url not in _CREATED:  # these commands refuse a store that `noc db upgrade` never made
        create_store(db_url)
        _CREATED.add(db_url)
    env = {**os.environ, "NOC_CALLER_HASH_KEY": HASH_KEY}
    env.pop("NOC_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "noc", *args, "--db", db_url],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


CALLS = """call_id,entered_at,answered_at,ended_at,outcome,wait_seconds
c1,2026-11-03 08:00:00,2026-11-03 08:00:10,2026-11-03 08:05:00,answered,10
c2,2026-11-03 09:00:00,2026-11-03 09:00:05,2026-11-03 09:04:00,answered,5
c3,2026-11-03 10:00:00,,2026-11-03 10:00:03,abandoned,3
c4,2026-11-30 23:59:00,2026-11-30 23:59:20,2026-12-01 00:03:00,answered,20
c5,2026-12-01 00:00:00,,2026-12-01 00:00:30,abandoned,30
"""

TICKETS = """ticket_no,created_at,type,content,instant_answer,closed_at,callback_at,satisfaction
T1,2026-11-03 08:01,enquiry,咨询社保,是,2026-11-03 08:05,2026-11-03 10:00,满意
T2,2026-11-04 09:00,enquiry,咨询公积金,否,2026-11-05 09:00,2026-11-06 09:30,基本满意
T3,2026-11-30 19:00,help,路灯不亮,否,2026-11-30 20:00,,
"""

STAFF = "person,post,start,end\n张三,接话,2025-01-01,\n李四,接话,2025-01-01,2026-09-30\n"


def test_registers_and_the_month(db_url, tmp_path):
    (tmp_path / "calls.csv").write_text(CALLS, encoding="utf-8")
    (tmp_path / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    (tmp_path / "staff.csv").write_text(STAFF, encoding="utf-8")
    for args in (
        ("calls", "import", str(tmp_path / "calls.csv")),
        ("tickets", "import", str(tmp_path / "tickets.csv")),
        ("staff", "import", str(tmp_path / "staff.csv")),
        ("report", "submit", "--period", "2026-10", "--at", "2026-11-06 09:00"),
        (
            "emergency",
            "add",
            "--kind",
            "typhoon",
            "--started",
            "2026-11-10 08:00",
            "--responded",
            "2026-11-10 08:20",
        ),
    ):
        done = noc(db_url, *args)
        assert done.returncode == 0, (args, done.stderr)

    got = noc(
        db_url,
        "kpi",
        "report",
        "--period",
        "2026-11",
        "--as-of",
        "2026-12-01 09:00",
        "--format",
        "json",
    )
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    f = {x["id"]: x for x in data["figures"]}
    assert (f["answer_rate"]["numerator"], f["answer_rate"]["denominator"]) == (3, 4)
    assert (f["instant_answer"]["numerator"], f["instant_answer"]["denominator"]) == (1, 2)
    # T2 called back 24 h 30 min after closing; T3 closed 30 Nov 20:00 is still pending
    cb = f["callback_on_time"]
    assert (cb["numerator"], cb["denominator"]) == (1, 2)
    assert cb["records"]["pending"] == ["T3"]
    assert (f["satisfaction"]["numerator"], f["satisfaction"]["denominator"]) == (2, 2)
    assert f["reports"]["records"]["items"] == ["monthly:2026-10 late"]
    assert (f["emergencies"]["numerator"], f["emergencies"]["denominator"]) == (1, 1)
    assert f["spot_check"]["status"] == "no_data"
    graced = noc(
        db_url,
        "kpi",
        "report",
        "--period",
        "2026-11",
        "--format",
        "json",
        "--as-of",
        "2026-12-01 09:00",
    )
    assert json.loads(graced.stdout)["figures"][0]["value"] == 0.75

    card = noc(db_url, "scorecard", "--period", "2026-11", "--as-of", "2026-12-01 09:00")
    assert card.returncode == 0, card.stderr
    assert "接通率: 0/10" in card.stdout  # 75 % is 20 points below 95 %
    assert "常态报告/数据提交及时准确: 8/10" in card.stdout
    en = noc(db_url, "scorecard", "--period", "2026-11", "--lang", "en", "--as-of", "2026-12-01")
    assert "no data (nothing to count): full points" in en.stdout


def test_mistakes_exit_2_without_traceback(db_url, tmp_path):
    bad = noc(db_url, "kpi", "report", "--period", "2026-13")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    scope = noc(db_url, "kpi", "report", "--period", "2026-11", "--scope", "region:x")
    assert scope.returncode == 2 and "agent:NAME" in scope.stderr
    (tmp_path / "s.csv").write_text("person,post,start\n王五,接话,someday\n", encoding="utf-8")
    imp = noc(db_url, "staff", "import", str(tmp_path / "s.csv"))  # a bad row: exit 1, named
    assert imp.returncode == 1 and "row 2, column start" in imp.stderr
    assert "Traceback" not in imp.stderr
    (tmp_path / "h.csv").write_text("person,post,begin\n王五,接话,2026-11-01\n", encoding="utf-8")
    head = noc(db_url, "staff", "import", str(tmp_path / "h.csv"))  # a bad header: exit 2
    assert head.returncode == 2 and "'begin'" in head.stderr
    em = noc(db_url, "emergency", "add", "--kind", "flood", "--started", "2026-11-01")
    assert em.returncode == 2 and "typhoon" in em.stderr
