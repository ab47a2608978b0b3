"""The one contract every probe follows.

A probe is ``async def probe(target: Target, params) -> ProbeResult``. The caller (the
scheduler, the CLI) owns the overall timeout; a probe never raises for a network outcome
(timeout, refusal, garbage on the wire, bad credentials): it returns a ``ProbeResult`` whose
``result`` code says what happened and whose ``reason`` says it in words. Library errors are
translated to result codes at one place per protocol module.

Each kind is one package (``probes/icmp``, ``probes/snmp``, ``probes/sip``) owning its params
model, client, codec and rendering, and describing itself to the service with a
:class:`probes.kind.ProbeKind`; ``probes.probeset`` lists the kinds and holds one client of
each.

Result codes (a closed set, so dashboards and runbooks can rely on them):

    ok              the peer answered as a healthy peer does
    timeout         nothing came back in time
    unreachable     the network said the host/port cannot be reached (ICMP unreachable, no route)
    refused         the peer actively refused (TCP RST, ICMP port unreachable for UDP)
    error_response  the peer answered, with an error (SIP 503, SNMP error-status)
    auth_required   SIP 401/407 where the module does not count that as alive
    auth_failed     SNMPv3 wrong user/key, SNMP wrong community reported by a report PDU
    malformed       the peer answered with bytes that are not a valid reply
    error           a local problem (bad target, socket permission); never a network outcome
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


class ResultCode(enum.StrEnum):
    OK = "ok"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"
    ERROR_RESPONSE = "error_response"
    AUTH_REQUIRED = "auth_required"
    AUTH_FAILED = "auth_failed"
    MALFORMED = "malformed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Target:
    """What to probe: an address (host or IP), an optional port and protocol-specific extras.

    ``asset`` and ``check`` name the inventory entry for logs and results; ``extra`` carries
    what only one protocol needs (SIP URI, SNMP interface name, contracted bandwidth …).
    """

    address: str
    port: int | None = None
    asset: str = ""
    check: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ProbeResult:
    """The outcome of one probe run.

    ``timings`` are per phase in seconds (e.g. ``{"rtt": 0.0012}``, ``{"resolve": …, "poll": …}``);
    ``values`` are measured quantities in base units (``loss_ratio``, ``rtt_avg_seconds``,
    ``in_bps`` …); ``findings`` are discrete facts worth an observation of their own
    (``"agent_restarted"``, ``"counter_wrap"``); ``info`` is descriptive text
    (server/user-agent, interface names).
    """

    ok: bool
    result: ResultCode
    reason: str = ""
    kind: str = ""
    target: str = ""
    started_at: float = 0.0  # wall clock, epoch seconds (UTC)
    duration_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    status_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["result"] = self.result.value
        return data

    @classmethod
    def success(cls, reason: str = "", **kw: Any) -> ProbeResult:
        return cls(ok=True, result=ResultCode.OK, reason=reason, **kw)

    @classmethod
    def failure(cls, result: ResultCode, reason: str, **kw: Any) -> ProbeResult:
        return cls(ok=False, result=result, reason=reason, **kw)


ProbeFunc = Callable[[Target, Any], Awaitable[ProbeResult]]


class Stopwatch:
    """Monotonic timing of phases, with the wall-clock start kept for the result."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self._t0 = time.perf_counter()
        self._last = self._t0
        self.timings: dict[str, float] = {}

    def lap(self, phase: str) -> float:
        now = time.perf_counter()
        self.timings[phase] = now - self._last
        self._last = now
        return self.timings[phase]

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def stamp(self, result: ProbeResult) -> ProbeResult:
        """Fill in the start time, total duration and phase timings of ``result``."""
        result.started_at = self.started_at
        result.duration_seconds = self.elapsed
        for k, v in self.timings.items():
            result.timings.setdefault(k, v)
        return result
