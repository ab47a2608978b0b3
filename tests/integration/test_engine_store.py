"""The engine shell on a real store: results in, transitions and incident timelines out, restart.

Probe results are constructed here (the probes are tested against real daemons elsewhere);
what is under test is the durable fold: ordering, idempotent resume, operator actions.
"""

from __future__ import annotations

import datetime as dt

import pytest

from noc.engine.health import State
from noc.runtime.engine import Engine
from noc.store import Store
from noc.store.incidents import IncidentError, IncidentRepo
from probes.base import ProbeResult, ResultCode

T0 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC).timestamp()


def icmp(ok: bool, at: float) -> ProbeResult:
    if ok:
        return ProbeResult.success(
            kind="icmp",
            started_at=at,
            values={"sent": 3, "received": 3, "loss_ratio": 0.0, "rtt_avg_seconds": 0.001},
        )
    return ProbeResult.failure(
        ResultCode.TIMEOUT,
        "no reply",
        kind="icmp",
        started_at=at,
        values={"sent": 3, "received": 0, "loss_ratio": 1.0},
    )


def sip(ok: bool, at: float) -> ProbeResult:
    if ok:
        return ProbeResult.success(kind="sip", started_at=at, status_code=200)
    return ProbeResult.failure(
        ResultCode.TIMEOUT, "no answer to OPTIONS", kind="sip", started_at=at
    )


async def feed(
    engine: Engine, asset: str, check: str, pattern: str, start: float, step: float = 0.2
):
    ref = engine.refs[(asset, check)]
    make = sip if ref.check_type == "sip" else icmp
    for i, ch in enumerate(pattern):
        await engine.ingest(ref, make(ch == "+", start + i * step))


@pytest.fixture
async def store(db_url):
    store = await Store.open(db_url)
    yield store
    await store.close()


async def new_engine(config, store) -> Engine:
    engine = Engine(config, store, runbook_for=lambda t: f"runbook-{t}")
    await engine.start()
    return engine


async def test_voice_circuit_outage_is_one_level_one_incident(lingshui_config, store):
    engine = await new_engine(lingshui_config, store)
    await feed(engine, "mstp-voice", "icmp", "++", T0)
    await feed(engine, "voice-gw", "trunk", "+", T0)
    await feed(engine, "mstp-voice", "icmp", "---", T0 + 10)  # fault starts at T0+10
    await feed(engine, "voice-gw", "trunk", "---", T0 + 11)  # the trunk dies with it
    repo = IncidentRepo(store, "lingshui")
    [incident] = await repo.list()
    assert (incident.fault_key, incident.severity, incident.status) == (
        "circuit_down:mstp-voice",
        "I",
        "open",
    )
    assert incident.fault_started_at.timestamp() == pytest.approx(T0 + 10)
    assert incident.runbook == "runbook-circuit_down"
    kinds = [e.kind for e in await repo.events(incident.id)]
    assert kinds == ["opened", "graded", "symptom_attached"]

    await feed(engine, "voice-gw", "trunk", "+++", T0 + 30)
    await feed(engine, "mstp-voice", "icmp", "+++", T0 + 31)
    [incident] = await repo.list()
    assert incident.status == "recovered" and incident.recovery_kind == "automatic"
    assert incident.recovered_at.timestamp() == pytest.approx(T0 + 31)
    transitions = await store.transitions(asset="mstp-voice")
    assert [(t.from_state, t.to_state) for t in transitions] == [
        ("UNKNOWN", "UP"),
        ("UP", "DOWN"),
        ("DOWN", "UP"),
    ]


async def test_three_phones_are_one_level_three_incident(lingshui_config, store):
    engine = await new_engine(lingshui_config, store)
    for n in (1, 2, 3):
        await feed(engine, f"phone-{n:02d}", "sip", "+---", T0 + n)
    [incident] = await IncidentRepo(store, "lingshui").list()
    assert (incident.fault_type, incident.severity, incident.peak_severity) == (
        "phones_unreachable",
        "III",
        "III",
    )
    assert incident.impact["members"] == ["phone-01", "phone-02", "phone-03"]


async def test_restart_continues_the_same_incident(lingshui_config, store):
    engine = await new_engine(lingshui_config, store)
    await feed(engine, "mstp-ticket", "icmp", "+---", T0)
    [before] = await IncidentRepo(store, "lingshui").list()
    # a new process: states and incidents come back from the store
    engine2 = await new_engine(lingshui_config, store)
    assert engine2.state(("mstp-ticket", "icmp")) is State.DOWN
    assert list(engine2.book.active) == ["circuit_down:mstp-ticket"]
    await feed(engine2, "mstp-ticket", "icmp", "----", T0 + 5)  # still down: nothing new
    incidents = await IncidentRepo(store, "lingshui").list()
    assert [i.id for i in incidents] == [before.id]
    await feed(engine2, "mstp-ticket", "icmp", "+++", T0 + 60)
    [after] = await IncidentRepo(store, "lingshui").list()
    assert after.id == before.id and after.status == "recovered"


async def test_intervention_step_makes_recovery_manual_and_close_needs_a_note(
    lingshui_config, store
):
    engine = await new_engine(lingshui_config, store)
    repo = IncidentRepo(store, "lingshui")
    await feed(engine, "internet", "icmp", "+---", T0)
    [incident] = await repo.list()
    assert incident.severity == "III"
    await repo.acknowledge(incident.id, "值班员张三")
    with pytest.raises(IncidentError, match="cannot acknowledge incident #.*: it is acknowledged"):
        await repo.acknowledge(incident.id, "someone")
    await repo.step_done(incident.id, "switch-backup", "张三", "切换到备用线路", intervention=True)
    await feed(engine, "internet", "icmp", "+++", T0 + 120)
    incident = await repo.get(incident.id)
    assert (incident.status, incident.recovery_kind) == ("recovered", "manual")
    with pytest.raises(IncidentError, match="cause note"):
        await repo.close(incident.id, "张三", " ")
    await repo.close(incident.id, "张三", "运营商光缆中断，已修复")
    kinds = [e.kind for e in await repo.events(incident.id)]
    assert kinds == ["opened", "graded", "acknowledged", "step_done", "recovered", "closed"]


async def test_operator_resolve_while_the_fault_persists_opens_a_new_incident(
    lingshui_config, store
):
    engine = await new_engine(lingshui_config, store)
    repo = IncidentRepo(store, "lingshui")
    await feed(engine, "mstp-ticket", "icmp", "+---", T0)
    [first] = await repo.list()
    await repo.resolve(first.id, "张三", "误报")
    await feed(
        engine, "mstp-ticket", "icmp", "-", T0 + 5
    )  # still failing: nothing (state unchanged)
    await feed(engine, "mstp-ticket", "icmp", "+++", T0 + 10)
    await feed(engine, "mstp-ticket", "icmp", "---", T0 + 20)
    incidents = await repo.list()
    assert [(i.status, i.recovery_kind) for i in incidents] == [
        ("open", None),
        ("recovered", "manual"),
    ]


async def test_a_link_down_trap_is_an_immediate_observation_and_a_kick(lingshui_config, store):
    from probes.snmp.traps import TrapObservation

    engine = await new_engine(lingshui_config, store)
    kicked: list[set] = []
    engine.kick = lambda keys: kicked.append(set(keys))
    ref = engine.refs[("mstp-voice", "snmp")]
    up = ProbeResult.success(kind="snmp", started_at=T0, values={"if.mstp-voice.oper_up": 1.0})
    await engine.ingest(ref, up)
    trap = TrapObservation(
        received_at=T0 + 5,
        source="198.18.10.1",
        source_port=161,
        version="2c",
        security_name="c0",
        kind="link_down",
        trap_oid="1.3.6.1.6.3.1.1.5.3",
        if_index=3,
        if_name="mstp-voice",
        if_oper_status=2,
    )
    await engine.on_trap(trap)
    health = engine.health[("mstp-voice", "snmp")]
    assert health.fail_streak == 1 and health.pending  # one observation, confirmation pending
    assert ("mstp-voice", "snmp") in kicked[-1] and ("voice-gw", "trunk") in kicked[-1]
    # a trap from an unknown source or for another interface changes nothing
    await engine.on_trap(
        TrapObservation(
            received_at=T0 + 6,
            source="192.0.2.9",
            source_port=161,
            version="2c",
            security_name="c0",
            kind="link_down",
            trap_oid="x",
            if_name="mstp-voice",
        )
    )
    assert health.fail_streak == 1


async def test_interface_down_and_failing_pings_together_are_an_outage_at_once(
    lingshui_config, store
):
    """Seen in the lab: linkDown came first, one lost ping followed; waiting for ICMP's own
    3-failure confirmation cost seconds, and when the link came back before it, the outage's lost
    probes then raised a false 'degraded'. Two witnesses of one moment are enough."""
    engine = await new_engine(lingshui_config, store)
    await feed(engine, "mstp-voice", "icmp", "+++", T0)
    snmp = engine.refs[("mstp-voice", "snmp")]
    up = ProbeResult.success(kind="snmp", started_at=T0, values={"if.mstp-voice.oper_up": 1.0})
    await engine.ingest(snmp, up)
    for i in range(3):  # the agent answers: the interface is oper down
        await engine.ingest(
            snmp,
            ProbeResult.success(
                kind="snmp", started_at=T0 + 10 + i * 0.1, values={"if.mstp-voice.oper_up": 0.0}
            ),
        )
    assert engine.state(("mstp-voice", "snmp")) is State.DOWN
    assert engine.state(("mstp-voice", "icmp")) is State.UP  # an oper-down alone decides nothing
    assert [i.fault_type for i in await IncidentRepo(store, "lingshui").list()] == []
    await feed(engine, "mstp-voice", "icmp", "-", T0 + 10.4)  # one lost probe: the second witness
    assert engine.state(("mstp-voice", "icmp")) is State.DOWN
    [incident] = await IncidentRepo(store, "lingshui").list()
    assert (incident.fault_type, incident.severity) == ("circuit_down", "I")
    await feed(
        engine, "mstp-voice", "icmp", "+++", T0 + 12
    )  # back before ICMP alone would have decided
    incidents = await IncidentRepo(store, "lingshui").list()
    assert [(i.fault_type, i.status) for i in incidents] == [
        ("circuit_down", "recovered")
    ]  # no false "degraded"
    # a stale oper-down next to a lost ping a minute later is not one moment
    await feed(engine, "mstp-voice", "icmp", "-", T0 + 70)
    assert engine.state(("mstp-voice", "icmp")) is State.UP


# -- issue 11: the SLA's facts from what the engine wrote ------------------------------------------


async def sla_of(store, config, start: float, end: float, now: float, scope: str):
    """The SLA of ``scope`` over [start, end) from the store, as ``noc sla report`` computes it
    (:func:`sla.report.build`). The service is taken to have watched the whole span (what the
    watch of ``noc run`` records; the engine alone records no coverage): the SLA counts
    monitored time only."""
    from support.coverage import watched

    from sla.intervals import Window
    from sla.report import build
    from sla.scope import parse_scope

    span = Window(
        "span", dt.datetime.fromtimestamp(start, dt.UTC), dt.datetime.fromtimestamp(end, dt.UTC)
    )
    await watched(store, config, span.start, span.end)
    [report] = await build(
        store,
        config,
        None,
        [span],
        parse_scope(config, scope),
        dt.datetime.fromtimestamp(now, dt.UTC),
    )
    assert report.coverage is not None and report.coverage.status == "ok"
    return report


async def test_three_9_second_outages_under_flapping_cost_27_seconds(lingshui_config, store):
    """The lab's afternoon: three 9 s link-downs a minute apart (fast confirmation re-probes, a
    probe every 10 s between). The first recovers at once; the second makes the check flap, so
    its incident is held open through the third and recovers only when the check is stably back.
    The SLA charges what was measured down: 27 s, three repair times of 9 s."""
    engine = await new_engine(lingshui_config, store)
    ref = engine.refs[("mstp-voice", "icmp")]
    observations = [(T0 - 100 + 10 * i, True) for i in range(10)]
    for k in range(3):
        b = T0 + 60 * k
        observations += [(b, False), (b + 0.2, False), (b + 0.4, False)]
        observations += [(b + 9, True), (b + 9.2, True), (b + 9.4, True)]
        observations += [(b + 10 * j, True) for j in range(1, 6)]
    observations += [(T0 + 180 + 10 * j, True) for j in range(30)]
    for when, ok in observations:
        await engine.ingest(ref, icmp(ok, when))
    repo = IncidentRepo(store, "lingshui")
    first, second = sorted(await repo.list(), key=lambda i: i.id)
    assert first.recovered_at.timestamp() == pytest.approx(T0 + 9)
    # held open by flapping from 60 s to when the check stopped flapping, minutes later
    assert second.fault_started_at.timestamp() == pytest.approx(T0 + 60)
    assert second.recovered_at.timestamp() - T0 > 200
    [recovered] = [e for e in await repo.events(second.id) if e.kind == "recovered"]
    assert recovered.data["flapping"]["outages"] == 2
    assert recovered.data["flapping"]["down_seconds"] == pytest.approx(18)
    assert second.impact["checks"] == [["mstp-voice", "icmp"]]

    r = await sla_of(
        store, lingshui_config, T0 - 3600, T0 + 3600, T0 + 3600, "service:voice-intake"
    )
    assert r.downtime_seconds == pytest.approx(27) and r.failures == 3
    assert [f.repair_seconds for f in r.failure_lines] == pytest.approx([9, 9, 9])
    assert r.mttr_seconds == pytest.approx({"automatic": 9}) and r.breaches == ()


async def test_a_merged_symptom_keeps_its_start_in_the_sla(lingshui_config, store):
    """The trunk is seen failing first (an incident of its own), the voice circuit under it 10 min
    later: the trunk's incident is merged into the circuit's. The circuit's repair time runs from
    the trunk's first failure: 10 min + 7 min = 17 min, a breach of the 15 min target (not 7 min)."""
    engine = await new_engine(lingshui_config, store)
    await feed(engine, "mstp-voice", "icmp", "++", T0 - 10)
    await feed(engine, "voice-gw", "sip", "+", T0 - 10)  # the gateway itself answers
    await feed(engine, "voice-gw", "trunk", "+---", T0 - 0.2)  # the trunk fails from T0
    await feed(engine, "mstp-voice", "icmp", "---", T0 + 600)  # the circuit, 10 min later
    await feed(engine, "mstp-voice", "icmp", "+++", T0 + 1020)
    await feed(engine, "voice-gw", "trunk", "+++", T0 + 1021)
    repo = IncidentRepo(store, "lingshui")
    incidents = {i.fault_key: i for i in await repo.list()}
    circuit = incidents["circuit_down:mstp-voice"]
    assert incidents["sip_trunk_error:voice-gw"].close_note == "merged into circuit_down:mstp-voice"
    r = await sla_of(
        store, lingshui_config, T0 - 3600, T0 + 3600, T0 + 3600, "service:voice-intake"
    )
    assert r.failures == 1 and r.downtime_seconds == pytest.approx(1020)
    [line] = r.failure_lines
    assert line.incident_id == circuit.id and line.repair_seconds == pytest.approx(1020)
    assert [(b.incident_id, b.kind) for b in r.breaches] == [(circuit.id, "automatic")]
