"""The 月报 page, ``GET /api/v1/reports/monthly`` and the console's 退出 (issues 13 and 15) through
aiohttp's test client on the real store, with a tiny generated October 2026 (the demo generator
at ~1,200 tickets a year: ~90 tickets, a render takes seconds):

- the page links the three downloads and lists the report's submissions with on time / late;
- a DOCX download opens with python-docx and holds the scorecard with the API's points; the PDF
  is a PDF; the file names (ASCII ``filename`` and the Chinese ``filename*``) are right; every
  download leaves one ``report.download`` audit row; a second one is the kept bytes;
- one report is made at a time: the same report asked twice is made once, another one meanwhile
  is refused with 503 and ``Retry-After``;
- a viewer downloads but has no submit form, and a forged submit is 403; a lead's submit writes
  one register row and one audit row;
- 退出 ends the session: the form carries the CSRF token, lands on /login, and the next page
  asked for redirects to /login.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

import docx
import pytest
from support.auth import add_account, grant, login
from support.calls import HASH_KEY

from kpi.model import INDICATORS, NAMES
from noc.app import create_app
from noc.appkeys import REPORTS, STORE
from noc.demo.generate import Plan
from noc.demo.load import load
from noc.ingest.privacy import CallerProtector
from noc.reports.service import last_full_month
from noc.store import Store
from noc.store.audit_log import AuditLog
from noc.store.kpi_registers import KpiRegisters

SH = ZoneInfo("Asia/Shanghai")
AS_OF = "2026-11-02T09:00"  # site time: the figures as they stood then, the same every run
OCT = {"period": "2026-10", "as_of": AS_OF}
ZH_DOCX = "12345热线月报-2026-10.docx"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _fill(url: str) -> None:
    store = await Store.open(url, migrate=True)
    try:
        plan = Plan(dt.date(2026, 10, 1), dt.date(2026, 11, 1), seed=15, tickets_per_year=1_200)
        await load(store, plan, CallerProtector(HASH_KEY), SH)
    finally:
        await store.close()


async def _client(aiohttp_client, config, url):
    await _fill(url)
    return await aiohttp_client(create_app(config, url, probing=False))


@pytest.fixture
async def console(aiohttp_client, lingshui_config, sqlite_url):
    return await _client(aiohttp_client, lingshui_config, sqlite_url)


@pytest.fixture
async def console_db(aiohttp_client, lingshui_config, db_url):
    return await _client(aiohttp_client, lingshui_config, db_url)


async def as_user(client, name: str, role: str) -> str:
    """Log in as ``name`` (a ``role`` account); the session's CSRF token."""
    await add_account(client.app[STORE], name, role)
    return (await login(client, name))["csrf_token"]


async def rows_of(client, **filters) -> list:
    return [r for r in await AuditLog(client.app[STORE]).rows(**filters) if r.action != "login"]


async def test_the_page_links_the_downloads_and_a_viewer_has_no_submit_form(console):
    await as_user(console, "viewer1", "viewer")
    before = dt.datetime.now(dt.UTC)
    resp = await console.get("/reports")
    html = await resp.text()
    after = dt.datetime.now(dt.UTC)
    assert resp.status == 200, html
    assert '<a href="/reports" aria-current="page">月报</a>' in html  # in the navigation
    assert 'action="/reports/download"' in html and 'method="get"' in html
    buttons = re.findall(r'<button type="submit" name="format" value="(\w+)"', html)
    assert buttons == ["docx", "pdf", "html"]
    # the default month: the site's last full month
    shown = re.search(r'<input type="month" name="period" required value="([\d-]+)"', html)[1]
    assert shown in {last_full_month(before, SH), last_full_month(after, SH)}
    assert '<option value="zh-CN" selected>' in html  # the report's language: the reader's
    # a viewer reads the submissions but may not register one
    assert 'action="/reports/submissions"' not in html and "登记报送须由值班长进行" in html
    bad = await console.get("/reports", params={"period": "2026-13"})
    assert bad.status == 400 and "calendar month" in await bad.text()
    english = await (await console.get("/reports", params={"lang": "en"})).text()
    assert "Download DOCX" in english and '<option value="en" selected>' in english


async def test_a_docx_download_holds_the_scorecard_and_is_audited(console):
    await as_user(console, "viewer1", "viewer")
    resp = await console.get("/reports/download", params={**OCT, "format": "docx"})
    body = await resp.read()
    assert resp.status == 200, body[:500]
    assert resp.content_type == DOCX_TYPE
    disposition = resp.headers["Content-Disposition"]
    assert disposition == (
        'attachment; filename="12345-hotline-monthly-2026-10.docx"; '
        f"filename*=UTF-8''{quote(ZH_DOCX)}"
    )
    assert "%E7%83%AD%E7%BA%BF%E6%9C%88%E6%8A%A5" in disposition  # 热线月报, UTF-8
    assert resp.headers["X-Report-As-Of"] == "2026-11-02T01:00:00+00:00"  # 09:00 site time
    book = docx.Document(io.BytesIO(body))
    assert book.paragraphs[0].text == "12345热线月报（2026年10月）"
    [table] = [t for t in book.tables if t.rows[0].cells[1].text == "考核指标"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert [r[1] for r in rows[:-1]] == [NAMES[f][0] for f in INDICATORS]
    # the same points as the API's scorecard for the same month and as-of
    card = (await (await console.get("/api/v1/scorecard", params=OCT)).json())["scorecard"]
    for row, item in zip(rows, card["items"], strict=False):
        assert row[5] == ("—" if item["points"] is None else f"{item['points']:g}"), row
    assert rows[-1][1] == "合计" and rows[-1][5] == f"{card['total']:g}"

    [row] = await rows_of(console, action="report.download")
    assert (row.actor_user, row.outcome, row.target) == ("viewer1", "ok", "report:monthly:2026-10")
    assert row.channel == "console"
    assert row.after["format"] == "docx" and row.after["lang"] == "zh-CN"
    assert row.after["sha256"] == hashlib.sha256(body).hexdigest() and not row.after["cached"]
    # asked again: the kept bytes, audited again
    again = await console.get("/reports/download", params={**OCT, "format": "docx"})
    assert await again.read() == body
    rows = await rows_of(console, action="report.download")
    assert len(rows) == 2 and rows[1].after["cached"] is True


async def test_the_api_gives_the_pdf_and_refuses_a_bad_month(console):
    headers = await grant(console.app[STORE], "reporter", "operator")
    resp = await console.get(
        "/api/v1/reports/monthly",
        params={**OCT, "format": "pdf", "lang": "en"},
        headers=headers,
    )
    body = await resp.read()
    assert resp.status == 200, body[:500]
    assert body.startswith(b"%PDF") and resp.content_type == "application/pdf"
    name = "12345-hotline-monthly-2026-10.pdf"
    assert resp.headers["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    )
    [row] = await rows_of(console, action="report.download")
    assert (row.actor_user, row.channel, row.after["format"], row.after["lang"]) == (
        "reporter",
        "api",
        "pdf",
        "en",
    )
    for params, says in (
        ({"period": "2026-13"}, "calendar month"),
        ({"period": "2026-10", "format": "odt"}, "docx, pdf, html"),
        ({"period": "2026-10", "lang": "fr"}, "zh-CN, en"),
        ({"period": "2026-10", "as_of": "someday"}, "as_of"),
    ):
        bad = await console.get("/api/v1/reports/monthly", params=params, headers=headers)
        answer = await bad.json()
        assert bad.status == 400 and says in answer["reason"], (params, answer)
    nobody = await console.get("/api/v1/reports/monthly", params=OCT)
    assert nobody.status == 401
    doc = await (await console.get("/api/v1/openapi.json", headers=headers)).json()
    op = doc["paths"]["/api/v1/reports/monthly"]["get"]
    assert op["x-permission"] == "read" and "application/pdf" in op["responses"]["200"]["content"]
    # the console's download of a month that cannot be read: the page again, with the reason
    await as_user(console, "viewer1", "viewer")
    page = await console.get("/reports/download", params={"period": "2026-13"})
    assert page.status == 400 and "calendar month" in await page.text()


async def test_one_report_at_a_time(console, monkeypatch):
    import noc.reports.service as service

    made = []
    real_draw = service.draw

    def counting_draw(doc, fmt):  # noqa: ANN001, ANN202 - the real drawing, counted
        made.append(fmt)
        return real_draw(doc, fmt)

    monkeypatch.setattr(service, "draw", counting_draw)
    await as_user(console, "viewer1", "viewer")
    reports = console.app[REPORTS]
    html_params = {**OCT, "format": "html", "report_lang": "en"}

    async def fetch(params: dict):  # noqa: ANN202
        return await console.get("/reports/download", params=params)

    first = asyncio.create_task(fetch(html_params))
    for _ in range(3000):  # until the first request has begun the report
        if reports.running is not None or first.done():
            break
        await asyncio.sleep(0.01)
    assert reports.running is not None, "the first report was not being made"
    # the same report meanwhile: waits for it; another one: refused at once, with Retry-After
    same = asyncio.create_task(fetch(html_params))
    other = await console.get("/reports/download", params={**OCT, "format": "docx"})
    text = await other.text()
    assert other.status == 503 and int(other.headers["Retry-After"]) >= 1
    assert "正在生成另一份月报" in text and "2026-10 html en" in text
    api = await console.get("/api/v1/reports/monthly", params={**OCT, "format": "docx"})
    assert api.status == 503 and api.headers["Retry-After"].isdigit()
    assert (await api.json())["error"] == "unavailable"
    one, two = await first, await same
    assert one.status == two.status == 200
    assert await one.read() == await two.read()
    assert made == ["html"] and reports.running is None
    assert b"12345 hotline monthly report, October 2026" in await one.read()
    assert (await console.get("/reports/download", params={**OCT, "format": "docx"})).status == 200


async def test_a_leads_submission_writes_one_register_row_and_one_audit_row(console_db):
    console = console_db
    store = console.app[STORE]
    viewer = await as_user(console, "viewer2", "viewer")
    submission = {"kind": "monthly", "period": "2026-10", "submitted_at": "2026-11-04T09:00"}
    forged = await console.post(
        "/reports/submissions", data={**submission, "csrf_token": viewer}, allow_redirects=False
    )
    assert forged.status == 403
    assert await KpiRegisters(store).rows("submissions") == []
    [refused] = await rows_of(console, actor="viewer2")
    assert (refused.action, refused.outcome) == ("report.submit", "refused")

    token = await as_user(console, "lead1", "lead")
    page = await (await console.get("/reports", params={"period": "2026-10"})).text()
    assert 'action="/reports/submissions"' in page
    assert "2026-10 月报尚未登记报送，应于 2026-11-05 18:00 前报送" in page
    no_token = await console.post("/reports/submissions", data=submission, allow_redirects=False)
    assert no_token.status == 403
    resp = await console.post(
        "/reports/submissions", data={**submission, "csrf_token": token}, allow_redirects=False
    )
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"] == "/reports?period=2026-10&submitted=1#submissions"
    [row] = await KpiRegisters(store).rows("submissions")
    assert (row.kind, row.period) == ("monthly", "2026-10")
    assert row.submitted_at == dt.datetime(2026, 11, 4, 1, tzinfo=dt.UTC)  # 09:00 site time
    rows = await rows_of(console, actor="lead1")
    assert [(r.action, r.outcome) for r in rows] == [
        ("report.submit", "refused"),
        ("report.submit", "ok"),
    ]
    assert rows[1].target == f"submissions:{row.id}" and rows[1].after["period"] == "2026-10"
    # September's, a day late; a period that cannot be read is refused on the page
    late = {"kind": "monthly", "period": "2026-09", "submitted_at": "2026-10-06T09:00"}
    resp = await console.post(
        "/reports/submissions", data={**late, "csrf_token": token}, allow_redirects=False
    )
    assert resp.status == 303
    bad = await console.post(
        "/reports/submissions", data={"kind": "monthly", "period": "Oct", "csrf_token": token}
    )
    assert bad.status == 400 and "2026-10" in await bad.text()
    assert len(await KpiRegisters(store).rows("submissions")) == 2
    listed = await (await console.get("/reports", params={"period": "2026-10"})).text()
    found = re.findall(r'data-status="(\w+)"><td>\d+</td><td>[^<]*</td><td>([\d-]+)</td>', listed)
    statuses = {period: status for status, period in found}
    assert statuses == {"2026-10": "on_time", "2026-09": "late"}
    assert "逾期 15 h 0 min" in listed  # due 5 October 18:00, in 6 October 09:00
    assert "2026-10 月报已于 2026-11-04 09:00 报送" in listed


async def test_logout_ends_the_session(console):
    token = await as_user(console, "wang", "operator")
    html = await (await console.get("/reports")).text()
    header = html.split("<main")[0]
    form = re.search(
        r'<form method="post" action="/api/v1/logout" class="logout">(.*?)</form>', header, re.S
    )
    assert form is not None, header
    assert f'name="csrf_token" value="{token}"' in form[1]
    assert "wang · 值班员" in header  # who is signed in, and as what
    forged = await console.post("/api/v1/logout", data={"csrf_token": "0" * 64})
    assert forged.status == 403  # a cross-site page cannot log anyone out
    resp = await console.post("/api/v1/logout", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    later = await console.get("/reports", allow_redirects=False)
    assert later.status == 303 and later.headers["Location"] == "/login?next=/reports"
    rows = await rows_of(console, actor="wang", action="logout")
    assert [r.outcome for r in rows] == ["refused", "ok"]
