"""Alerts end to end in the lab: a real fault, the real service process, delivery through Apprise
to a local HTTP sink; and a service killed with messages still queued delivers them after restart."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from support.noc_process import NocProcess
from support.sinks import HttpSink
from support.waiting import wait_until

from .test_lab_incidents import PHONE_SIP

pytestmark = pytest.mark.root


def alerting_yaml(sink: HttpSink, every_event_at_once: bool = False) -> str:
    route = (
        "  route: {receiver: noc-oncall, group_by: [incident], group_wait: 0s, group_interval: 1s}\n"
        if every_event_at_once
        else ""
    )
    return f"""
alerting:
{route}  receivers:
    - {{name: noc-oncall, urls: ["{sink.json_url("oncall")}"]}}
    - {{name: noc-lead, urls: ["{sink.json_url("lead")}"]}}
    - {{name: carrier-liaison, urls: ["{sink.json_url("carrier")}"]}}
    - {{name: purchaser-contact, urls: ["{sink.json_url("purchaser")}"]}}
"""


@pytest.fixture
def sink(
    http_sink: HttpSink,
) -> HttpSink:  # the shared fixture, under the name these tests read best with
    return http_sink


def inventory_with(lab, sink: HttpSink, tmp_path: Path, every_event_at_once: bool = False) -> Path:
    text = (lab.state.directory / "inventory.yaml").read_text(encoding="utf-8")
    out = tmp_path / "lab-alerting.yaml"
    out.write_text(
        text.replace(PHONE_SIP, "sip: {default: 5s, by_kind: {phone: 3s}}")
        + alerting_yaml(sink, every_event_at_once),
        encoding="utf-8",
    )
    return out


async def test_voice_circuit_down_reaches_the_channel_and_so_does_its_recovery(lab, sink, tmp_path):
    lab.heal()
    svc = await asyncio.to_thread(
        lambda: NocProcess(
            inventory_with(lab, sink, tmp_path), tmp_path / "noc.db", tmp_path / "service.log"
        ).start()
    )  # stops itself if it fails
    try:
        await asyncio.sleep(4)
        assert sink.bodies("/oncall") == []
        lab.fault("link-down", ["mstp-voice"])
        await sink.wait_for(1, timeout=20)
        opened = sink.bodies("/oncall")[0]
        assert "I级" in opened["title"] and "mstp-voice" in opened["message"]
        lab.heal("link-down mstp-voice")

        async def recovered():
            while not any("恢复" in b["title"] for b in sink.bodies("/oncall")):
                await asyncio.sleep(0.2)

        await asyncio.wait_for(recovered(), 30)
        titles = [b["title"] for b in sink.bodies("/oncall")]
        assert len(titles) == len(set(titles)), f"a message was sent twice: {titles}"
    finally:
        await asyncio.to_thread(svc.stop)
        lab.heal()


async def test_messages_queued_when_the_service_is_killed_arrive_once_after_restart(
    lab, sink, tmp_path
):
    lab.heal()
    inventory = inventory_with(lab, sink, tmp_path, every_event_at_once=True)
    db = tmp_path / "noc.db"
    services: list[NocProcess] = []

    def queued() -> int:
        import sqlite3

        with sqlite3.connect(db) as conn:
            return conn.execute(
                "SELECT count(*) FROM notifications WHERE status != 'delivered'"
            ).fetchone()[0]

    try:
        svc = await asyncio.to_thread(
            lambda: NocProcess(inventory, db, tmp_path / "service.log").start()
        )
        services.append(svc)
        await asyncio.sleep(4)
        await sink.close_port()  # the channel is down: everything waits in the outbox
        # independent faults, each told at once: ticket circuit (II), internet (III), three phones
        # (IV, then re-graded to III as they add up)
        for fault in (
            ["link-down", ["mstp-ticket"]],
            ["link-down", ["internet"]],
            ["sip-silence", ["198.18.10.101"]],
            ["sip-silence", ["198.18.10.102"]],
            ["sip-silence", ["198.18.10.103"]],
        ):
            lab.fault(*fault)
        await asyncio.to_thread(wait_until, lambda: queued() >= 4, 40, "four queued messages")
        await asyncio.to_thread(svc.stop, signal.SIGKILL)
        waiting = queued()
        await sink.listen()
        again = await asyncio.to_thread(
            lambda: NocProcess(inventory, db, tmp_path / "service2.log").start()
        )
        services.append(again)
        await sink.wait_for(waiting, timeout=40)
        await asyncio.sleep(2)
        bodies = [json.dumps(b, sort_keys=True, ensure_ascii=False) for b in sink.bodies("/oncall")]
        assert len(bodies) >= waiting >= 4
        assert len(bodies) == len(set(bodies)), "a message arrived twice"
    finally:
        for service in services:
            if service.proc.poll() is None:
                await asyncio.to_thread(service.stop)
        lab.heal()
