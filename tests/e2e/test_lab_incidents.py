"""End to end in the network lab: real links, real daemons, the real service process.

Faults are injected with the lab (ip link, nft, Kamailio modes); the service probes them with
its real probes and the tests read incidents back through the HTTP API, as an operator would.
Times are compared with the fault injection and healing instants (wall clock, UTC).
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from support.noc_process import NocProcess
from support.waiting import wait_until

from noc.lab.control import Lab

pytestmark = pytest.mark.root

PHONE_SIP = "sip: {default: 5s, by_kind: {phone: 30s}}"


@pytest.fixture(scope="module")
def inventory(lab: Lab, tmp_path_factory) -> Path:
    """The lab's inventory with phones polled every 3 s, so phone tests take seconds not minutes."""
    text = (lab.state.directory / "inventory.yaml").read_text(encoding="utf-8")
    assert PHONE_SIP in text
    out = tmp_path_factory.mktemp("inv") / "lingshui-lab.yaml"
    out.write_text(
        text.replace(PHONE_SIP, "sip: {default: 5s, by_kind: {phone: 3s}}"), encoding="utf-8"
    )
    return out


def parse(ts: str) -> float:
    return dt.datetime.fromisoformat(ts).timestamp()


@pytest.fixture
def service(inventory: Path, tmp_path: Path, lab: Lab):
    lab.heal()
    svc = NocProcess(inventory, tmp_path / "noc.db", tmp_path / "service.log").start()
    # let every check settle UP before injecting anything
    wait_until(lambda: svc.get("/healthz")["status"] == "ok", 5, "health")
    time.sleep(4)
    try:
        yield svc
    finally:
        if svc.proc.poll() is None:
            svc.stop()
        lab.heal()


def active(svc: NocProcess) -> list[dict[str, Any]]:
    return [i for i in svc.incidents() if i["status"] in ("open", "acknowledged")]


def test_voice_circuit_down_is_one_level_one_incident_with_its_symptom(
    lab: Lab, service: NocProcess
):
    assert active(service) == []
    injected = time.time()
    lab.fault("link-down", ["mstp-voice"])
    incident = wait_until(
        lambda: next((i for i in active(service) if i["type"] == "circuit_down"), None),
        15,
        "the circuit_down incident",
    )
    assert incident["severity"] == "I" and incident["root_asset"] == "mstp-voice"
    assert incident["runbook"] == "mstp-circuit-down"
    assert abs(parse(incident["detected_at"]) - injected) <= 2.0
    # the CE router's linkDown trap reached the service and was taken as an observation
    wait_until(
        lambda: any(
            e.get("event") == "snmp_trap"
            and e.get("kind") == "link_down"
            and e.get("if_name") == "mstp-voice"
            and e.get("known")
            for e in service.log_events()
        ),
        10,
        "the linkDown trap in the service log",
    )
    # the gateway's provincial trunk fails with the circuit: a symptom, not an incident of its own
    wait_until(
        lambda: any(
            s["fault"] == "sip_trunk_error:voice-gw"
            for s in service.get(f"/api/v1/incidents/{incident['id']}")["symptoms"]
        ),
        20,
        "trunk symptom",
    )
    assert [i["id"] for i in active(service)] == [incident["id"]]
    progress = service.get(f"/api/v1/incidents/{incident['id']}?lang=en")["runbook_progress"]
    assert "MSTP" in progress["title"] and progress["next_step"]
    # the runbook's automated diagnostics ran and their output is in the timeline
    auto = wait_until(
        lambda: [
            e
            for e in service.get(f"/api/v1/incidents/{incident['id']}")["timeline"]
            if e["kind"] == "step_done" and e["actor"] == "noc-auto"
        ],
        30,
        "automated steps",
    )
    assert all(
        e["data"]["automated"] and e["data"]["intervention"] is False and e["data"]["output"]
        for e in auto
    )
    assert {e["data"]["step"] for e in auto} <= {"confirm", "ce-interface", "path", "verify"}

    healed = time.time()
    lab.heal("link-down mstp-voice")
    done = wait_until(
        lambda: (
            (d := service.get(f"/api/v1/incidents/{incident['id']}"))["status"] == "recovered" and d
        ),
        15,
        "recovery",
    )
    assert done["recovery_kind"] == "automatic"
    assert abs(parse(done["recovered_at"]) - healed) <= 2.0
    assert len(service.incidents()) == 1
    kinds = [e["kind"] for e in done["timeline"]]
    assert (
        kinds[:2] == ["opened", "graded"] and "symptom_attached" in kinds and "recovered" in kinds
    )
    assert kinds.count("recovered") == 1


def test_three_phones_down_is_one_level_three_incident(lab: Lab, service: NocProcess):
    for n in (101, 102, 103):
        lab.fault("sip-silence", [f"198.18.10.{n}"])
    incident = wait_until(
        lambda: next(
            (
                i
                for i in active(service)
                if i["type"] == "phones_unreachable" and len(i["members"]) == 3
            ),
            None,
        ),
        25,
        "three phones in one incident",
    )
    assert incident["severity"] == "III"
    assert incident["members"] == ["phone-01", "phone-02", "phone-03"]
    assert len(service.incidents()) == 1


def test_ten_percent_loss_on_internet_raises_no_down_incident_and_no_churn(
    lab: Lab, service: NocProcess
):
    lab.fault("loss", ["internet", "10"])
    time.sleep(40)
    incidents = service.incidents()
    assert not [i for i in incidents if i["type"] in ("internet_down", "router_down")]
    # degradation may be reported, once, and held: no open/recover churn
    degraded = [i for i in incidents if i["type"] == "internet_degraded"]
    assert len(degraded) <= 1
    assert all(i["status"] == "open" for i in degraded)


def test_sigkill_with_an_open_incident_resumes_the_same_incident(
    lab: Lab, service: NocProcess, inventory: Path, tmp_path: Path
):
    lab.fault("link-down", ["mstp-ticket"])
    incident = wait_until(
        lambda: next((i for i in active(service) if i["type"] == "circuit_down"), None),
        15,
        "circuit_down on the ticket circuit",
    )
    assert incident["severity"] == "II"
    assert service.stop(signal.SIGKILL) == -signal.SIGKILL
    again = NocProcess(inventory, service.db, tmp_path / "service2.log").start()
    try:
        time.sleep(5)
        assert [i["id"] for i in active(again)] == [incident["id"]]
        lab.heal("link-down mstp-ticket")
        done = wait_until(
            lambda: (
                (d := again.get(f"/api/v1/incidents/{incident['id']}"))["status"] == "recovered"
                and d
            ),
            15,
            "recovery after restart",
        )
        assert done["recovery_kind"] == "automatic"
        assert [i["id"] for i in again.incidents()] == [incident["id"]]
    finally:
        again.stop()
