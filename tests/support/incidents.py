"""An incident made by the real engine for tests of the operator acts: the ticket circuit
(mstp-ticket) stops answering pings, the engine opens a level-II ``circuit_down`` incident
(runbook ``mstp-circuit-down``), and a test acts on it."""

from __future__ import annotations

from aiohttp import web

from noc.appkeys import CONFIG, ENGINE, STORE
from noc.store.incidents import IncidentRepo
from probes.base import ProbeResult, ResultCode

T0 = 1_796_000_000.0


async def break_circuit(engine, asset: str, at: float) -> None:  # noqa: ANN001 - the Engine
    """Real results into the real engine: ``asset`` answers its pings a second before ``at``,
    then three in a row go unanswered from ``at`` on (the engine opens an incident)."""
    ref = engine.refs[(asset, "icmp")]
    ok = {"sent": 3, "received": 3, "loss_ratio": 0.0, "rtt_avg_seconds": 0.002}
    await engine.ingest(ref, ProbeResult.success(kind="icmp", started_at=at - 1, values=ok))
    for i in range(3):
        await engine.ingest(
            ref,
            ProbeResult.failure(
                ResultCode.TIMEOUT,
                "no reply",
                kind="icmp",
                started_at=at + i * 0.2,
                values={"sent": 3, "received": 0, "loss_ratio": 1.0},
            ),
        )


async def break_ticket_circuit(engine, t0: float = T0) -> None:  # noqa: ANN001 - the Engine
    """The ticket circuit answers at ``t0`` and stops answering a second later (a level-II
    ``circuit_down`` incident on ticket exchange)."""
    await break_circuit(engine, "mstp-ticket", t0 + 1)


async def open_ticket_incident(app: web.Application) -> int:
    """The id of the incident the broken ticket circuit opens in a running app."""
    await break_ticket_circuit(app[ENGINE])
    [row] = await IncidentRepo(app[STORE], app[CONFIG].site.name).list("active")
    return row.id
