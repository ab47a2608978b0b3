"""The monthly report from a generated month (docs/report.md): August–September 2026 of the demo
generator (small: ~1,000 tickets a month), a level-II voice incident, the staff, emergency and
submission registers. All three formats render; the PDF read back by ``pdftotext`` holds every
indicator with the figures ``noc kpi report --format json`` prints; the DOCX opens with
python-docx and holds the scorecard with its points; a month without calls reads 无数据; the
same month read from PostgreSQL gives the same report."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from zoneinfo import ZoneInfo

import docx
import pytest
from sqlalchemy import update
from support.calls import HASH_KEY
from support.coverage import watched

from incident_runbooks.loader import load_runbooks
from kpi.model import INDICATORS, NAMES
from kpi.monthly import build
from noc.config import DEFAULT_CONFIG, load_config
from noc.demo.generate import Plan
from noc.demo.load import load
from noc.engine.incidents import ActiveIncident, Change
from noc.ingest.privacy import CallerProtector
from noc.ingest.registers import validate
from noc.reports import charts
from noc.reports.docx_out import render_docx
from noc.reports.gather import gather
from noc.reports.html_out import render_html
from noc.reports.monthly import monthly_document
from noc.reports.pdf_out import render_pdf
from noc.store import Store
from noc.store.incidents import IncidentRepo
from noc.store.kpi_registers import KpiRegisters
from noc.store.tables import Incident

SH = ZoneInfo("Asia/Shanghai")
AS_OF_TEXT = "2026-10-02 09:00"
AS_OF = dt.datetime(2026, 10, 2, 9, tzinfo=SH).astimezone(dt.UTC)
POSTS = {"接话": 27} | {
    p: 1
    for p in (
        "派单岗",
        "工单回访岗",
        "知识库管理岗",
        "工单督办申诉岗",
        "数据分析岗",
        "政策材料岗",
        "技术管理岗",
        "运行管理岗",
        "综合管理",
        "信息管理",
    )
}


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH).astimezone(dt.UTC)


async def _fill(url: str) -> None:
    store = await Store.open(url, migrate=True)
    try:
        config = load_config(DEFAULT_CONFIG)
        plan = Plan(dt.date(2026, 8, 1), dt.date(2026, 10, 1), seed=14, tickets_per_year=12_000)
        await load(store, plan, CallerProtector(HASH_KEY), SH)
        await watched(store, config, at(7, 1, 0), at(10, 1, 0))
        # a level-II outage of the voice circuit on 15 September, 10:00 → 10:40 (manual)
        repo = IncidentRepo(store, config.site.name)
        inc = ActiveIncident(
            key="circuit_down:mstp-voice",
            type="circuit_down",
            root_asset="mstp-voice",
            fault_class="outage",
            severity="II",
            peak_severity="II",
            impact="critical",
            fault_started_at=at(9, 15, 10).timestamp(),
            detected_at=at(9, 15, 10).timestamp() + 20,
            members={"mstp-voice"},
            services=[
                {"service": "voice-intake", "full": True, "impact": "critical", "down": ["x"]}
            ],
        )
        await repo.apply(
            [Change("opened", inc.key, inc.detected_at, {"runbook": "mstp-circuit-down"})],
            {inc.key: inc},
        )
        async with store.sessions.begin() as s:  # what the outbox records on first delivery
            await s.execute(
                update(Incident).where(Incident.id == inc.id).values(alarmed_at=at(9, 15, 10, 1))
            )
        await repo.acknowledge(inc.id, "值班员", at=at(9, 15, 10, 5))
        await repo.resolve(inc.id, "值班员", "更换光模块", at=at(9, 15, 10, 40))
        regs = KpiRegisters(store)

        async def enter(register: str, **raw) -> None:  # the registers' own checks, no audit
            record = validate(register, raw, ZoneInfo("Asia/Shanghai"), None)
            async with store.transaction() as tx:
                await regs.record(register, record, tx)

        for post, n in POSTS.items():
            for k in range(n):
                last = "2026-08-10" if (post, k) == ("接话", 0) else None
                await enter(
                    "staff", person=f"{post}{k:02d}", post=post, start="2025-01-01", end=last
                )
        await enter(
            "emergencies",
            kind="typhoon",
            started_at=at(9, 20, 8).isoformat(),
            title="台风预警",
            responded_at=at(9, 20, 8, 20).isoformat(),
        )
        await enter(
            "submissions", kind="monthly", period="2026-08", submitted_at=at(9, 4, 10).isoformat()
        )
    finally:
        await store.close()


@pytest.fixture(scope="module")
def month_db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('monthly') / 'noc.db'}"
    asyncio.run(_fill(url))
    return url


def noc(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NOC_CALLER_HASH_KEY": HASH_KEY}
    env.pop("NOC_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "noc", *args], capture_output=True, text=True, timeout=120, env=env
    )


def cli(*args: str):
    """``noc …`` in this process (click's runner): the command without a new interpreter."""
    from click.testing import CliRunner

    from noc.cli import main

    env = {"NOC_CALLER_HASH_KEY": HASH_KEY, "NOC_CONFIG": None}
    return CliRunner().invoke(main, list(args), env=env)


def document(url: str, period: str, lang: str = "zh-CN"):
    async def go():
        store = await Store.open(url, migrate=False)
        try:
            config = load_config(DEFAULT_CONFIG)
            return await monthly_document(store, config, load_runbooks(), period, AS_OF, lang)
        finally:
            await store.close()

    return asyncio.run(go())


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def figure_text(fig: dict) -> str:
    """How the report prints one figure of ``noc kpi report --format json``."""
    if fig["status"] == "no_data":
        return "无数据"
    if fig["value"] is not None and fig["id"] != "staffing":
        return f"{fig['value'] * 100:.2f}%({fig['numerator']}/{fig['denominator']})"
    return f"{fig['count']}项"


def test_all_three_formats_from_a_generated_month(month_db, tmp_path):
    got = cli("kpi", "report", "--period", "2026-09", "--as-of", AS_OF_TEXT, "--format", "json",
              "--db", month_db)  # fmt: skip
    assert got.exit_code == 0, got.output
    kpi = json.loads(got.stdout)
    figures = {f["id"]: f for f in kpi["figures"]}
    points = {p["id"]: p for p in kpi["scorecard"]["items"]}
    # the month has what every section needs: calls, the incident, the registers
    assert figures["answer_rate"]["status"] == "ok" and figures["platform_faults"]["denominator"]
    # the agent who left on 10 August, not replaced: short of 27 agents and of 37 people
    assert figures["staffing"]["records"]["items"] == ["total@2026-08-11", "接话@2026-08-11"]
    assert figures["emergencies"]["denominator"] == 2  # the typhoon and the level-II incident

    doc = document(month_db, "2026-09")
    images = {c.id: charts.render(c) for c in doc.charts()}

    # HTML: every section, the scorecard table, the charts inline
    html = render_html(doc, images)
    for section in doc.sections:
        assert f"<h2>{section.title}</h2>" in html
    assert '<table id="scorecard">' in html and html.count("data:image/png;base64,") == 2
    assert "下月工作计划" in html

    # PDF: every indicator's name, and its row with the same figure and points
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(render_pdf(doc, images))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = squeeze(text)
    layout = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for n, fid in enumerate(INDICATORS, start=1):
        name = NAMES[fid][0]
        assert squeeze(name) in flat, name
        assert squeeze(points[fid]["why_zh"]) in flat, fid
        # its scorecard row: number, name, target, the JSON's figure, points, score
        [line] = [x for x in layout if re.match(rf"\s*{n}\s+{re.escape(name)}\s", x)]
        shown = "—" if points[fid]["points"] is None else f"{points[fid]['points']:g}"
        maximum = ("+" if points[fid]["bonus"] else "") + f"{points[fid]['max']:g}"
        assert squeeze(figure_text(figures[fid]) + maximum + shown) in squeeze(line), line
    assert f"合计100+5{kpi['scorecard']['total']:g}" in flat
    assert "无数据" in text  # the year before holds nothing: no year-on-year change

    # DOCX: opens, holds the scorecard table with the right points
    book = docx.Document(io.BytesIO(render_docx(doc, images)))
    [table] = [t for t in book.tables if t.rows[0].cells[1].text == "考核指标"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert [r[1] for r in rows[:-1]] == [NAMES[f][0] for f in INDICATORS]
    for row, fid in zip(rows, INDICATORS, strict=False):
        assert row[3].replace(" ", "") == figure_text(figures[fid])
        assert row[5] == ("—" if points[fid]["points"] is None else f"{points[fid]['points']:g}")
    assert rows[-1][1] == "合计" and rows[-1][5] == f"{kpi['scorecard']['total']:g}"
    assert len(book.inline_shapes) == 2
    headings = [p.text for p in book.paragraphs if p.style.name == "Heading 1"]
    assert headings == [s.title for s in doc.sections]

    # the incident shows in the network section and the correlation
    assert [r[1] for r in doc.table("incidents").rows] == ["II"]
    [impact] = doc.table("correlation").rows
    assert impact[1] == "市民来电受理"


def test_the_command_writes_the_file_and_refuses_a_bad_month(month_db, tmp_path):
    out = tmp_path / "report.docx"
    done = cli("report", "monthly", "--period", "2026-09", "--out", str(out),
               "--as-of", AS_OF_TEXT, "--db", month_db)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert str(out) in done.stdout and "docx" in done.stdout
    assert docx.Document(str(out)).paragraphs[0].text == "12345热线月报（2026年9月）"
    for bad in ("2026-13", "2026-W48"):
        refused = cli("report", "monthly", "--period", bad, "--db", month_db)
        assert refused.exit_code == 2, refused.output
        assert "calendar month" in refused.stderr and "Traceback" not in refused.output
    # the real command, in English, to standard output
    en = noc("report", "monthly", "--period", "2026-09", "--format", "html", "--out", "-",
             "--lang", "en", "--as-of", AS_OF_TEXT, "--db", month_db)  # fmt: skip
    assert en.returncode == 0, en.stderr
    assert "12345 hotline monthly report, September 2026" in en.stdout
    assert "Traceback" not in en.stderr


def test_a_month_without_calls_reads_no_data(month_db):
    doc = document(month_db, "2026-07")  # before the generated history: nothing at all
    calls = {r[0]: r[1:] for r in doc.table("calls").rows}
    assert calls["接通率"][0] == "无数据" and calls["转人工来电"][0] == "0"
    card = {r[1]: r for r in doc.table("scorecard").rows}
    assert card["接通率"][3] == "无数据"
    html = render_html(doc, {c.id: b"" for c in doc.charts()})
    assert "接通率 无数据" in html
    assert not re.search(r"接通率[^<]{0,4}0\.00%", html)


@pytest.mark.postgres
def test_the_same_month_read_from_postgresql(month_db, pg_url):
    asyncio.run(_fill(pg_url))

    def inputs(url):
        async def go():
            store = await Store.open(url, migrate=False)
            try:
                config = load_config(DEFAULT_CONFIG)
                return await gather(store, config, load_runbooks(), "2026-09", AS_OF)
            finally:
                await store.close()

        return asyncio.run(go())

    pg, lite = inputs(pg_url), inputs(month_db)
    assert {k: sorted(v) for k, v in pg.ticket_counts.items()} == {
        k: sorted(v) for k, v in lite.ticket_counts.items()
    }
    assert sum(n for *_, n in pg.ticket_counts["2026-09"]) > 500
    assert {k: sorted(v, key=str) for k, v in pg.calls.items()} == {
        k: sorted(v, key=str) for k, v in lite.calls.items()
    }
    assert pg.kb_titles == lite.kb_titles and pg.kb_titles

    def numbers(data):
        return [(f["id"], f["numerator"], f["denominator"], f["count"]) for f in data["figures"]]

    assert numbers(pg.kpi) == numbers(lite.kpi)
    assert pg.kpi["scorecard"] == lite.kpi["scorecard"]
    assert [r["availability_ratio"] for r in pg.sla["rows"]] == [
        r["availability_ratio"] for r in lite.sla["rows"]
    ]
    assert build(pg).sections == build(lite).sections
