"""``noc calls|tickets|kb import`` and ``search`` as an operator runs them (a child process),
on SQLite and PostgreSQL: good and bad rows, exact error texts, exit codes, re-imports.

The child runs as this process's OS account — root under ``make test``, who acts as admin and
so holds ``ingest``; who else may import, and the audit row of each file:
``test_cli_acting.py``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from support.calls import HASH_KEY, QUEUE_LOGS
from support.stores import create_store

SATISFACTION_CHOICES = (
    "满意 (satisfied), 基本满意 (basically_satisfied), 不满意 (dissatisfied), 未评价 (unrated)"
)
TIME_HINT = "use e.g. 2026-11-03 08:15:00 (site time) or ISO 8601 with an offset"


_CREATED: set[str] = set()


def noc(db_url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    if db_url not in _CREATED:  # these commands refuse a store that `noc db upgrade` never made
        create_store(db_url)
        _CREATED.add(db_url)
    environment = {**os.environ, "NOC_CALLER_HASH_KEY": HASH_KEY, **(env or {})}
    environment.pop("NOC_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "noc", *args, "--db", db_url],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


PROVINCE_HEADER = (
    "序号,工单编号,受理时间,来电号码,诉求类型,所属乡镇,诉求内容,办结时间,回访时间,满意度"
)
PROVINCE_ROWS = [
    "1,LS20261103001,2026-11-03 08:15,13800138000,投诉类,椰林镇,群众来电反映椰林镇文化路路灯不亮已经三天,2026-11-04 17:00,2026-11-05 10:00,非常满意",
    "2,LS20261103002,2026-11-03 09:00,13900139000,咨询,光坡镇,咨询社保卡补办,2026-11-03 09:05,,很好",
    "3,LS20261103003,明天,13700137000,求助,英州镇,自来水停水,,,",
    "4,,2026-11-03 10:00,13600136000,建议,隆广镇,建议增加公交线路,,,",
    "5,LS20261103005,2026-11-03 11:00,0898-83301234,求助,新村镇,渔港停电,2026-11-03 18:00,2026-11-04 09:00,比较满意",
    "6,LS20261103001,2026-11-03 08:15,13800138000,投诉类,椰林镇,另一件事,,,",
]


def province_csv(tmp_path: Path, encoding: str = "gb18030") -> Path:
    path = tmp_path / "工单导出.csv"
    path.write_bytes(("\r\n".join([PROVINCE_HEADER, *PROVINCE_ROWS]) + "\r\n").encode(encoding))
    return path


def test_provincial_export_with_the_shipped_mapping(db_url, tmp_path):
    path = province_csv(tmp_path)
    first = noc(db_url, "tickets", "import", str(path), "--mapping", "province-12345-tickets")
    assert first.returncode == 1, first.stderr
    problems = [line for line in first.stderr.splitlines() if line.startswith("row ")]
    assert problems == [
        f"row 3, column 满意度 (satisfaction), value '很好': '很好' is not one of {SATISFACTION_CHOICES}",
        f"row 4, column 受理时间 (created_at), value '明天': cannot read time '明天'; {TIME_HINT}",
        "row 5, column 工单编号 (ticket_no): is required",
        "row 7, column 诉求内容 (content), value '另一件事': conflict: stored as "
        "'群众来电反映椰林镇文化路路灯不亮已经三天', this record says '另一件事'",
    ]
    assert "columns not imported: 序号" in first.stderr
    assert (
        "工单导出.csv: 6 row(s): 2 new, 0 updated, 0 already stored, 4 with problems"
        in first.stdout
    )
    assert "\x1b[" not in first.stderr and "[#" not in first.stderr  # no bar off a terminal

    again = noc(db_url, "tickets", "import", str(path), "--mapping", "province-12345-tickets")
    assert again.returncode == 1
    assert "6 row(s): 0 new, 0 updated, 2 already stored, 4 with problems" in again.stdout

    shown = noc(db_url, "tickets", "show", "LS20261103001", "--json")
    ticket = json.loads(shown.stdout)
    assert (ticket["type"], ticket["status"], ticket["satisfaction"]) == (
        "complaint",
        "closed",
        "satisfied",
    )
    assert ticket["caller"] == "138****8000" and "13800138000" not in shown.stdout
    assert ticket["created_at_local"] == "2026-11-03T08:15:00+08:00"

    events = tmp_path / "抽检.csv"
    events.write_text(
        "ticket_no,kind,at,result,reason\n"
        "LS20261103001,抽检,2026-11-06 09:00,不合格,答复不完整\n"
        "LS999,抽检,2026-11-06 09:00,合格,\n",
        encoding="utf-8",
    )
    checked = noc(db_url, "tickets", "import", str(events), "--kind", "events")
    assert checked.returncode == 1
    assert checked.stderr.splitlines()[0] == (
        "row 3, column ticket_no, value 'LS999': invalid: no ticket 'LS999'"
    )
    spot = json.loads(noc(db_url, "tickets", "show", "LS20261103001", "--json").stdout)
    assert spot["spot_checks"][0]["result"] == "fail"

    found = noc(db_url, "tickets", "search", "路灯不亮")
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == [
        "共 1 条 / 1 match(es) for '路灯不亮' (showing 1–1)",
        "LS20261103001  2026-11-03 08:15  投诉  椰林镇  [closed]",
        "    群众来电反映椰林镇文化路【路灯不亮】已经三天",
    ]


def test_strict_imports_nothing_unless_every_row_is_good(db_url, tmp_path):
    path = province_csv(tmp_path, "utf-8")
    strict = noc(
        db_url, "tickets", "import", str(path), "--mapping", "province-12345-tickets", "--strict"
    )
    assert strict.returncode == 2
    assert (
        "--strict: 未导入任何记录 / nothing imported: 3 problem(s) in 工单导出.csv" in strict.stderr
    )
    listing = noc(db_url, "tickets", "list", "--json")
    assert json.loads(listing.stdout)["total"] == 0
    errors_csv = tmp_path / "errors.csv"
    good = tmp_path / "good.csv"
    good.write_text("\n".join([PROVINCE_HEADER, PROVINCE_ROWS[0], PROVINCE_ROWS[4]]), "utf-8-sig")
    ok = noc(
        db_url,
        "tickets",
        "import",
        str(good),
        "--mapping",
        "province-12345-tickets",
        "--strict",
        "--errors-out",
        str(errors_csv),
    )
    assert ok.returncode == 0, ok.stderr
    assert "2 row(s): 2 new" in ok.stdout
    assert errors_csv.read_text("utf-8-sig").strip() == "row,column,value,reason"


def test_calls_from_xlsx_with_canonical_columns(db_url, tmp_path):
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "call_id",
            "caller",
            "queue",
            "entered_at",
            "answered_at",
            "ended_at",
            "outcome",
            "agent",
            "talk_seconds",
        ]
    )
    t = dt.datetime(2026, 11, 3, 9, 0, 0)
    ws.append(
        [
            "x-1",
            13800138000,
            "hotline",
            t,
            t + dt.timedelta(seconds=8),
            t + dt.timedelta(minutes=3),
            "接通",
            "8001",
            None,
        ]
    )
    ws.append(
        ["x-2", "13900139000", "hotline", t, None, t + dt.timedelta(seconds=40), "放弃", None, None]
    )
    ws.append(
        [
            "x-3",
            "13900139000",
            "hotline",
            t,
            None,
            t + dt.timedelta(seconds=40),
            "放弃",
            None,
            "00:01:00",
        ]
    )
    path = tmp_path / "话务.xlsx"
    wb.save(path)
    first = noc(db_url, "calls", "import", str(path), "--source", "cc-lingshui")
    assert first.returncode == 1
    assert first.stderr.splitlines()[0] == (
        "row 4, column talk_seconds, value '00:01:00': must be empty or 0 when outcome is abandoned"
    )
    again = noc(db_url, "calls", "import", str(path), "--source", "cc-lingshui")
    assert "3 row(s): 0 new, 0 updated, 2 already stored, 1 with problems" in again.stdout
    listing = json.loads(noc(db_url, "calls", "list", "--json").stdout)
    assert listing["total"] == 2
    answered = next(c for c in listing["calls"] if c["call_id"] == "x-1")
    assert (answered["source"], answered["caller"], answered["wait_seconds"]) == (
        "cc-lingshui",
        "138****8000",
        8.0,
    )


def test_asterisk_queue_log_rotated_files_and_table_export(db_url, tmp_path):
    newer = tmp_path / "queue_log"
    older = tmp_path / "queue_log.1"
    shutil.copy(QUEUE_LOGS / "queue_log", newer)
    shutil.copy(QUEUE_LOGS / "queue_log.1", older)
    fmt = ("--format", "asterisk-queue-log")
    first = noc(db_url, "calls", "import", str(newer), *fmt)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "queue_log: 2 line(s), 2 new, 0 not call events; calls: 1 new, 0 completed or "
        "corrected; 1 waiting for their end (in a later file)"
    )
    second = noc(db_url, "calls", "import", str(older), *fmt)
    assert second.stdout.strip() == (
        "queue_log.1: 5 line(s), 5 new, 0 not call events; calls: 1 new, 1 completed or "
        "corrected; 0 waiting for their end (in a later file)"
    )
    again = noc(db_url, "calls", "import", str(older), *fmt)
    assert "5 line(s), 0 new" in again.stdout and "calls: 0 new, 0 completed" in again.stdout
    table = noc(db_url, "calls", "import", str(QUEUE_LOGS / "table_export.csv"), *fmt)
    assert table.returncode == 0 and "6 line(s), 5 new, 1 not call events" in table.stdout
    listing = json.loads(noc(db_url, "calls", "list", "--json", "--source", "asterisk").stdout)
    by_id = {c["call_id"]: c for c in listing["calls"]}
    assert sorted(by_id) == ["1793671100.29", "1793671200.30", "1793674800.40", "1793675160.41"]
    rotated = by_id["1793671200.30"]
    assert (rotated["caller"], rotated["talk_seconds"], rotated["ended_at_local"]) == (
        "138****8030",
        420.0,
        "2026-11-03T10:07:12+08:00",
    )
    broken = tmp_path / "broken_log"
    broken.write_text("1793667600|c1|q|NONE|ENTERQUEUE||13800138000\ngarbage\n")
    bad = noc(db_url, "calls", "import", str(broken), *fmt)
    assert bad.returncode == 1
    assert (
        bad.stderr.splitlines()[0]
        == "line 2, value 'garbage': expected time|callid|queue|agent|event|data…"
    )
    missing_key = noc(db_url, "calls", "import", str(older), *fmt, env={"NOC_CALLER_HASH_KEY": ""})
    assert missing_key.returncode == 1
    assert "NOC_CALLER_HASH_KEY" in missing_key.stderr and "Traceback" not in missing_key.stderr


def test_knowledge_base_import_and_search(db_url, tmp_path):
    path = tmp_path / "kb.csv"
    path.write_text(
        "entry_id,title,question,answer,category,tags,department,valid_to\n"
        "KB-1,社保卡补办,社保卡丢了怎么办,携带身份证到县社保局窗口办理,社保,社保、补办,县人社局,\n"
        "KB-2,过期的通知,旧问题,旧答案,其他,,,2020-01-01\n"
        "KB-3,,没有标题,答案,其他,,,\n",
        encoding="utf-8",
    )
    first = noc(db_url, "kb", "import", str(path))
    assert first.returncode == 1
    assert first.stderr.splitlines()[0] == "row 4, column title: is required"
    found = noc(db_url, "kb", "search", "社保")
    assert found.returncode == 0
    assert found.stdout.splitlines()[:2] == [
        "共 1 条 / 1 entry for '社保'",
        "KB-1  v1  【社保】卡补办  [社保]",
    ]
    expired = noc(db_url, "kb", "search", "旧答案", "--include-expired")
    assert "KB-2" in expired.stdout
    assert "KB-2" not in noc(db_url, "kb", "search", "旧答案").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tickets", "import", "missing.csv"), "does not exist"),
        (("tickets", "search", " "), "search text is empty"),
        (("tickets", "list", "--type", "抱怨"), "type: '抱怨' is not one of"),
        (("tickets", "show", "LS999"), "no ticket 'LS999'"),
    ],
)
def test_usage_errors_are_one_line_without_a_traceback(sqlite_url, args, message):
    result = noc(sqlite_url, *args)
    assert result.returncode in (1, 2) and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_a_table_is_refused_whole(sqlite_url, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("编号,内容\n1,x\n", encoding="utf-8")
    result = noc(sqlite_url, "tickets", "import", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "错误 error: no column for ticket_no (expected 'ticket_no'), created_at (expected "
        "'created_at'), type (expected 'type'), content (expected 'content'); the file has: "
        "编号, 内容"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  编号: number\n", encoding="utf-8")
    bad_map = noc(sqlite_url, "tickets", "import", str(path), "--mapping", str(mapping))
    assert bad_map.returncode == 2
    assert f"{mapping}:2 columns.编号: unknown field 'number'" in bad_map.stderr


def test_a_progress_bar_only_on_a_terminal(sqlite_url, tmp_path):
    import pty

    path = province_csv(tmp_path)
    create_store(sqlite_url)
    primary, secondary = pty.openpty()
    environment = {**os.environ, "NOC_CALLER_HASH_KEY": HASH_KEY, "COLUMNS": "100"}
    environment.pop("NOC_CONFIG", None)
    args = ["tickets", "import", str(path), "--mapping", "province-12345-tickets"]
    result = subprocess.run(
        [sys.executable, "-m", "noc", *args, "--db", sqlite_url],
        stdout=subprocess.PIPE,
        stderr=secondary,
        timeout=120,
        env=environment,
    )
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert result.returncode == 1
    assert "导入 importing" in shown.decode() and "100%" in shown.decode()
