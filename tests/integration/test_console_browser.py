"""The console in a real headless Chromium against a real ``noc run``, on loopback, no lab.

The service probes a Lingshui-shaped site whose addresses are all 127.0.0.1; its voice gateway
is a SIP responder this test runs, so stopping it is a real probe outcome: the engine writes
the transition and opens the incident, and the open page must show both within a second,
without a reload. An operator logs in through the login page and works the incident through
the forms. Screenshots of the board, the incident, the SLA page, the wall
and a phone are written to tests/artifacts/ (printed).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time

import pytest
from playwright.sync_api import sync_playwright
from support.auth import PASSWORD, add_account
from support.browser import TOFU_PROBE, artifact, launch
from support.console_site import SERVICES, AlertSink, SipResponder, write_inventory
from support.noc_process import NocProcess, free_port
from support.waiting import wait_until

from noc.store import Store


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("console")
    sink = AlertSink()
    sip = SipResponder(free_port(2)).start()
    service = NocProcess(
        work / "inventory.yaml",
        work / "noc.db",
        work / "service.log",
        env={"NOC_LAN_CIDR": "127.0.0.0/30"},
    )
    base = f"http://127.0.0.1:{service.port}"
    write_inventory(work / "inventory.yaml", sip.port, sink.url, public_url=base)
    service.start()  # the store exists now: the operator's account in it
    asyncio.run(_operator(service.db_url))
    try:
        yield service, sip, sink, base
    finally:
        service.stop()
        sip.stop()
        sink.stop()


async def _operator(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        await add_account(store, "zhang", "operator")
    finally:
        await store.close()


def log_in(page, base: str, name: str = "zhang") -> None:
    """Through the console's login page, as a person would."""
    page.goto(base + "/login")
    page.fill('input[name="user"]', name)
    page.fill('input[name="password"]', PASSWORD)
    page.click("form.login button")
    page.wait_for_url(base + "/")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = launch(p)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    log_in(page, site[3])
    yield page
    context.close()


def shot(page, name: str) -> None:
    path = artifact(name)
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def tile(page, service: str) -> str:
    return page.get_attribute(f'[data-service="{service}"]', "data-status")


def test_1_the_board_shows_the_four_services_green(site, page):
    service, _sip, _sink, base = site
    page.goto(base + "/")
    assert page.title().endswith("海南省12345热线陵水分平台")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-service]')]"
        ".every(t => t.dataset.status === 'green')",
        timeout=20_000,
    )  # green arrives live: the page was loaded before the first results
    assert [tile(page, s) for s in SERVICES] == ["green"] * 4
    assert page.inner_text('[data-service="voice-intake"] h2') == "市民来电受理"
    page.wait_for_selector("body[data-connected='1']")
    shot(page, "console-board-green.png")


def test_2_chinese_is_drawn_with_a_font_not_boxes(site, page):
    _service, _sip, _sink, base = site
    page.goto(base + "/")
    probe = page.evaluate(TOFU_PROBE)
    assert probe["inked"], "nothing drawn"
    assert probe["a"] != probe["b"], f"总 and 览 look the same (tofu) in {probe['font']}"
    assert probe["a"] != probe["tofu"], "总 is drawn as the missing-glyph box"
    assert probe["width"] == pytest.approx(40, abs=1.5)  # a CJK glyph is one em wide


def test_3_a_check_transition_is_on_screen_within_a_second_without_reload(site, page):
    service, sip, _sink, base = site
    page.goto(base + "/")
    page.wait_for_selector("body[data-connected='1']")
    wait_until(lambda: tile(page, "voice-intake") == "green", 20, "voice intake green")
    page.evaluate("() => { window.__notReloaded = true; }")
    page.evaluate(
        """() => new Promise(resolve => {
          window.__redAt = null; window.__incidentAt = null;
          new MutationObserver(() => {
            const t = document.querySelector('[data-service="voice-intake"]');
            if (!window.__redAt && t && t.dataset.status === 'red') window.__redAt = Date.now();
            if (!window.__incidentAt && document.querySelector('.incident[data-incident]'))
              window.__incidentAt = Date.now();
          }).observe(document.body, {subtree: true, childList: true, attributes: true});
          resolve();
        })"""
    )
    sip.up = False  # the gateway stops answering SIP OPTIONS
    page.wait_for_function("() => window.__redAt && window.__incidentAt", timeout=20_000)
    assert page.evaluate("() => window.__notReloaded") is True
    red_at = page.evaluate("() => window.__redAt") / 1000
    incident_at = page.evaluate("() => window.__incidentAt") / 1000
    events = service.log_events()
    down = next(
        e
        for e in events
        if e.get("event") == "check_transition"
        and e.get("asset") == "voice-gw"
        and e.get("to_state") == "DOWN"
    )
    opened = next(e for e in events if e.get("event") == "incident_opened")
    written = dt.datetime.fromisoformat(down["ts"].replace("Z", "+00:00")).timestamp()
    opened_at = dt.datetime.fromisoformat(opened["ts"].replace("Z", "+00:00")).timestamp()
    print(f"transition on screen {red_at - written:.3f}s, incident {incident_at - opened_at:.3f}s")
    assert red_at - written <= 1.0
    assert incident_at - opened_at <= 1.0
    assert "语音网关不可达" in page.inner_text("#open-incidents")
    assert tile(page, "ticket-exchange") == "green"
    shot(page, "console-board-voice-down.png")


def test_4_an_operator_works_the_incident_in_the_browser(site, page):
    service, _sip, _sink, base = site
    [incident] = [i for i in service.incidents() if i["status"] == "open"]
    page.goto(base + "/")
    page.click(f'.incident[data-incident="{incident["id"]}"] a')
    page.wait_for_url(f"**/incidents/{incident['id']}")
    page.wait_for_selector("body[data-connected='1']")
    steps = page.locator(".checklist > li.step")
    assert steps.count() >= 5
    assert "SIP探测详情" in steps.nth(0).inner_text()
    assert page.locator(".step .tag.auto").count() >= 2 and page.locator(".tag.manual").count() >= 2
    # acknowledge
    page.fill('form[action$="/ack"] input[name="note"]', "值班员已接报")
    page.click('form[action$="/ack"] button')
    page.wait_for_selector(".incident-head .st-acknowledged")
    # record two steps by hand
    for step, note in (
        ("ask-agents", "坐席话机全部掉线"),
        ("province-takeover", "已通知省平台代接"),
    ):
        page.select_option('form.record-step select[name="step"]', step)
        page.fill('form.record-step textarea[name="note"]', note)
        page.click("form.record-step button")
        page.wait_for_selector(f"#step-{step}.done")
        assert "zhang" in page.inner_text(f"#step-{step} .done-by")
    # run an automated diagnostic and watch its output arrive without a reload
    before = page.locator(".ev-step_done").count()
    page.evaluate("() => { window.__notReloaded = true; }")
    page.click("#step-confirm form button")  # runs, then 303 back to the page
    page.wait_for_load_state()
    page.evaluate("() => { window.__notReloaded = true; }")
    page.wait_for_function(
        f"() => document.querySelectorAll('.ev-step_done').length > {before}", timeout=30_000
    )
    assert page.evaluate("() => window.__notReloaded") is True
    assert "重新探测" in page.inner_text("#step-confirm pre.output")
    # resolve
    page.fill('form[action$="/resolve"] input[name="note"]', "重启网关进程后恢复")
    page.click('form[action$="/resolve"] button')
    page.wait_for_selector(".incident-head .st-recovered")
    shot(page, "console-incident.png")
    detail = service.get(f"/api/v1/incidents/{incident['id']}")
    assert detail["status"] == "recovered" and detail["acknowledged_by"] == "zhang"
    done = [e for e in detail["timeline"] if e["kind"] == "step_done" and e["actor"] == "zhang"]
    assert [e["data"]["step"] for e in done] == ["ask-agents", "province-takeover"]


def test_5_the_alert_messages_link_opens_the_incident(site, page):
    _service, _sip, sink, base = site
    wait_until(lambda: sink.bodies, 20, "an alert message")
    text = json.dumps(sink.bodies[0], ensure_ascii=False)
    link = re.search(r"https?://[^\s\"\\]+/incidents/\d+", text)[0]
    assert link.startswith(base + "/incidents/")
    page.goto(link)
    assert page.inner_text(".incident-head h1").startswith("#" + link.rsplit("/", 1)[1])


def test_6_sla_wall_and_phone_render(site, browser, page):
    _service, sip, _sink, base = site
    sip.up = True
    page.goto(base + "/sla")
    assert page.locator("table.sla tbody tr").count() >= 5
    assert "可用率" in page.inner_text("table.sla thead")
    shot(page, "console-sla.png")
    page.goto(base + "/wall")
    assert page.locator("nav.nav").count() == 0
    assert (
        page.evaluate("() => getComputedStyle(document.body).backgroundColor") == "rgb(11, 15, 20)"
    )
    shot(page, "console-wall.png")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    log_in(small, base)
    small.goto(base + "/")
    width = small.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, "the board scrolls sideways on a phone"
    shot(small, "console-phone.png")
    phone.close()
    time.sleep(0.1)
