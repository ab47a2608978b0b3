"""How one kind of probe describes itself to the service: a :class:`ProbeKind`.

The scheduler, the check planning, the runbook timeline, the CLI and the metrics snapshot ask
the kind (deadline, confirmation parameters, text, dashboard figures) instead of knowing what
an ICMP burst or an SNMP interface table is. A new kind is one package that builds a
``ProbeKind``, and one line in ``probes.probeset.KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from probes.base import ProbeResult, Target
from probes.render import result_line


class ProbeClient(Protocol):
    """The long-lived client of one kind (sockets, an SNMP engine); a ``ProbeSet`` holds one."""

    async def probe(self, target: Target, params: Any) -> ProbeResult: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CounterReading:
    """One device counter as read (ifHCInOctets, ifInErrors …): it only goes up, wraps at
    ``2**bits`` and starts again from 0 when the device restarts. ``origin`` names what keeps
    it (an ifIndex): a reading of another origin is another counter, a new start."""

    value: int
    bits: int = 64
    origin: int | str | None = None


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the dashboards chart of one result, named alike for every kind.

    ``figures`` maps ``rtt_seconds``, ``loss_ratio``, ``jitter_seconds`` or
    ``sip_status_code`` to a value, or to None when this result has none (its series goes
    away); a kind lists only the figures it measures. ``interfaces`` maps an interface name
    to its measured metrics (``in_bytes_per_second``, ``in_utilisation_ratio``, ``oper_up``
    …), for kinds that read interface tables; ``counters`` maps it to its device counters
    (``in_octets``, ``out_octets``, ``in_errors``, ``out_errors``, ``in_discards``,
    ``out_discards``), which the metrics snapshot sums into counters that never go backwards;
    ``uptime_seconds`` is how long the device has been counting (sysUpTime), so that a restart
    between two results is seen even when its counters have already climbed past the old values.
    """

    figures: Mapping[str, float | None] = field(default_factory=dict)
    interfaces: Mapping[str, Mapping[str, float]] | None = None
    counters: Mapping[str, Mapping[str, CounterReading]] | None = None
    uptime_seconds: float | None = None


def same_params(params: Any, recent_rtt: float | None = None) -> Any:
    """A confirmation re-probe with the check's own parameters."""
    return params


def plain_render(result: ProbeResult) -> str:
    """The kind, the target and the outcome."""
    return f"{result.kind} {result.target}\n{result_line(result)}"


def no_brief(result: ProbeResult) -> str:
    return ""


def no_gauges(result: ProbeResult) -> Gauges:
    return Gauges()


@dataclass(frozen=True, slots=True)
class ProbeKind:
    """Everything the service needs to know about one kind of probe, given by its package.

    ``client()`` makes the kind's long-lived client; ``deadline(params)`` is one run's worst
    case plus a margin (the scheduler cancels after it); ``confirm(params, recent_rtt)`` are the
    parameters of a fast-confirmation re-probe; ``render`` is the operator's text of a result
    (the CLI, the runbook timeline), ``brief`` a few words of it for one timeline row,
    ``gauges`` its dashboard figures. The defaults suit a kind with nothing more to say.
    """

    name: str
    client: Callable[[], ProbeClient]
    deadline: Callable[[Any], float]
    confirm: Callable[[Any, float | None], Any] = same_params
    render: Callable[[ProbeResult], str] = plain_render
    brief: Callable[[ProbeResult], str] = no_brief
    gauges: Callable[[ProbeResult], Gauges] = no_gauges
