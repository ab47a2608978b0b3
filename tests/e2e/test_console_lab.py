"""The console in headless Chromium against the service probing the network lab.

As the duty officer sees it: the board shows the lab's services green; ``noc lab fault
link-down mstp-voice`` turns the voice tile red and the incident appears without a reload; an
operator acknowledges, records two steps, runs the traceroute step and sees its output,
resolves; the alert message's link opens the incident; then, with the console as a viewer, no
action button is shown and a forged post is refused (403). Screenshots go to tests/artifacts/.

Both people log in through the console's login page with accounts put in the store
(:mod:`support.auth`): ``zhang`` (operator) and ``wang`` (viewer).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from support.auth import PASSWORD, add_account, run_sync
from support.browser import TOFU_PROBE, artifact, launch
from support.console_site import AlertSink
from support.noc_process import REPO, NocProcess
from support.waiting import wait_until

from noc.lab.control import Lab
from noc.store import Store

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def sink():
    sink = AlertSink()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = launch(p)
        try:
            yield chromium
        finally:
            chromium.close()


def lab_cli(lab: Lab, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "noc", "lab", *args, "--state-dir", str(lab.state.directory)],
        check=True,
        cwd=REPO,
        timeout=60,
    )


def accounts(db_url: str) -> None:
    """The operator and the viewer of this test, in the service's store."""

    async def go() -> None:
        store = await Store.open(db_url)
        try:
            await add_account(store, "zhang", "operator")
            await add_account(store, "wang", "viewer")
        finally:
            await store.close()

    run_sync(go())


def log_in(page, base: str, name: str) -> None:
    """Through the login page, as a person would."""
    page.goto(base + "/login")
    page.fill('input[name="user"]', name)
    page.fill('input[name="password"]', PASSWORD)
    page.click("form.login button")
    page.wait_for_url(base + "/")


def shot(page, name: str) -> None:
    path = artifact(name)
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def test_the_duty_officer_works_a_voice_circuit_outage_in_the_browser(
    lab: Lab, sink, browser, tmp_path: Path
):
    lab.heal()
    inventory = lab.state.directory / "inventory.yaml"
    env = {"NOC_ALERT_URL": sink.url}
    service = NocProcess(inventory, tmp_path / "noc.db", tmp_path / "service.log", env=env)
    service.start()
    accounts(service.db_url)
    base = f"http://127.0.0.1:{service.port}"
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, base, "zhang")
        # the board: every service green once the first results are in
        page.goto(base + "/")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-service]')]"
            ".every(t => t.dataset.status === 'green')",
            timeout=30_000,
        )
        probe = page.evaluate(TOFU_PROBE)
        assert probe["a"] != probe["b"] and probe["a"] != probe["tofu"]
        shot(page, "console-lab-board-green.png")
        page.evaluate("() => { window.__notReloaded = true; }")
        page.wait_for_selector("body[data-connected='1']")

        lab_cli(lab, "fault", "link-down", "mstp-voice")
        page.wait_for_selector('[data-service="voice-intake"][data-status="red"]', timeout=15_000)
        page.wait_for_selector(".incident[data-incident]", timeout=15_000)
        assert page.evaluate("() => window.__notReloaded") is True
        assert "专线中断" in page.inner_text("#open-incidents")
        shot(page, "console-lab-board-voice-down.png")

        incident = next(i for i in service.incidents() if i["type"] == "circuit_down")
        page.click(f'.incident[data-incident="{incident["id"]}"] a')
        page.wait_for_url(f"**/incidents/{incident['id']}")
        page.click('form[action$="/ack"] button')
        page.wait_for_selector(".incident-head .st-acknowledged")
        for step, note in (
            ("local-equipment", "CE与光端机指示灯正常"),
            ("report-carrier", "已报障"),
        ):
            page.select_option('form.record-step select[name="step"]', step)
            page.fill('form.record-step textarea[name="note"]', note)
            page.click("form.record-step button")
            page.wait_for_selector(f"#step-{step}.done")
        runs = (
            "() => [...document.querySelectorAll('.ev-step_done .what')]"
            ".filter(e => e.textContent.trim().startsWith('path')).length"
        )
        before = page.evaluate(runs)  # the diagnostics run at opening traced the path once
        page.click("#step-path form button")  # the traceroute, now
        page.wait_for_function(f"() => ({runs})() > {before}", timeout=60_000)
        output = page.inner_text("#step-path pre.output")
        assert "traceroute" in output.lower() or "路由跟踪" in output
        page.fill('form[action$="/resolve"] input[name="note"]', "运营商修复")
        page.click('form[action$="/resolve"] button')
        page.wait_for_selector(".incident-head .st-recovered")
        shot(page, "console-lab-incident.png")

        # the alert message's link opens the incident (its host is the configured public URL)
        wait_until(lambda: sink.bodies, 30, "an alert message")
        text = str(sink.bodies)
        path = re.search(r"/incidents/\d+", text)[0]
        page.goto(base + path)
        assert page.inner_text(".incident-head h1").startswith("#" + path.rsplit("/", 1)[1])

        page.goto(base + "/sla")
        shot(page, "console-lab-sla.png")
    finally:
        service.stop()
        lab.heal()

    # the same store, the console as a viewer: nothing to press, and pressing anyway is refused
    viewer = NocProcess(inventory, tmp_path / "noc.db", tmp_path / "viewer.log").start()
    try:
        page = browser.new_page()
        log_in(page, f"http://127.0.0.1:{viewer.port}", "wang")
        page.goto(f"http://127.0.0.1:{viewer.port}/incidents/{incident['id']}")
        assert page.locator("#actions button").count() == 0
        assert page.locator("main form[method=post]").count() == 0  # (the header's: 退出)
        status = page.evaluate(
            """async (url) => (await fetch(url, {method: "POST",
                 body: new URLSearchParams({note: "x", csrf_token: "0".repeat(64)})})).status""",
            f"http://127.0.0.1:{viewer.port}/incidents/{incident['id']}/close",
        )
        assert status == 403
    finally:
        viewer.stop(signal.SIGTERM)
    time.sleep(0.1)
