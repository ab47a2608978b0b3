"""Pure rate math for SNMP interface counters: two samples in, rates and findings out.

Kept apart from the socket code so every edge case (counter wrap, counter reset, agent
restart, ifIndex renumbering, missing interfaces) is a table-driven unit test.

Rules, in words:
- The interval is the local monotonic time between the two responses.
- The agent restarted when sysUpTime went backwards (a 2^32-tick wrap of sysUpTime after
  497 days is told apart by its size) or when the agent has been up for less time than
  has passed since the previous sample. A restart gives no rates for that interval, only
  the finding ``agent_restarted``.
- A counter that went down wrapped when the wrapped delta is less than half the counter's
  range (``counter_wrap``); otherwise it was reset (``counter_reset``) and that counter
  gives no rate for this interval. With 64-bit octet counters a real wrap is practically
  never seen, so a drop there nearly always means a reset; 32-bit error counters do wrap.
- An ifIndex whose name changed between samples was renumbered (``if_index_changed``):
  its counters belong to another interface now, so no rates for it this time.
- Utilisation is measured against the contracted bandwidth when one is given for the
  interface (carrier contracts are 10M/50M while the CPE often reports its port speed),
  else against ifHighSpeed; with neither there is no utilisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

COUNTER32 = 32
COUNTER64 = 64
SYS_UPTIME_RANGE = 2**32  # TimeTicks, hundredths of a second
UPTIME_SLACK_SECONDS = 2.0  # clock disagreement tolerated between the agent and us

AGENT_RESTARTED = "agent_restarted"
COUNTER_WRAP = "counter_wrap"
COUNTER_RESET = "counter_reset"
IF_INDEX_CHANGED = "if_index_changed"
INTERFACE_MISSING = "interface_missing"
INTERFACE_DOWN = "interface_down"

OPER_UP = 1
ADMIN_UP = 1


@dataclass(frozen=True, slots=True)
class InterfaceSample:
    """One ifTable/ifXTable row as read from the agent; None where the agent had no value."""

    if_index: int
    name: str = ""  # ifName, falling back to ifDescr (see ``label``)
    descr: str = ""
    admin_status: int | None = None
    oper_status: int | None = None
    in_octets: int | None = None  # ifHCInOctets (Counter64)
    out_octets: int | None = None  # ifHCOutOctets (Counter64)
    high_speed_mbps: int | None = None  # ifHighSpeed
    in_errors: int | None = None  # Counter32 from here on
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None

    @property
    def label(self) -> str:
        """The name operators know the interface by: ifName, else ifDescr, else ifIndex."""
        return self.name or self.descr or f"ifIndex{self.if_index}"

    def matches(self, wanted: str) -> bool:
        return wanted in (self.name, self.descr)


@dataclass(frozen=True, slots=True)
class AgentSample:
    """Everything one poll read from one agent, stamped with our monotonic clock."""

    at: float  # time.monotonic() when the response arrived
    uptime_ticks: int | None  # sysUpTime.0, hundredths of a second
    interfaces: Mapping[int, InterfaceSample] = field(default_factory=dict)


@dataclass(slots=True)
class InterfaceRates:
    """Per-interface outcome of comparing two samples; None means "not computable now"."""

    if_index: int
    label: str
    in_bps: float | None = None
    out_bps: float | None = None
    bandwidth_bps: int | None = None
    bandwidth_source: str | None = None  # "contract" | "ifHighSpeed" | None
    in_utilisation_ratio: float | None = None
    out_utilisation_ratio: float | None = None
    in_errors_per_second: float | None = None
    out_errors_per_second: float | None = None
    in_discards_per_second: float | None = None
    out_discards_per_second: float | None = None
    findings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RateReport:
    interval_seconds: float | None
    interfaces: dict[int, InterfaceRates]
    findings: list[str]


def counter_delta(
    previous: int | None, current: int | None, bits: int
) -> tuple[int | None, str | None]:
    """Increase of a counter between two reads, and ``counter_wrap``/``counter_reset`` if any.

    Returns ``(None, None)`` when either read is missing and ``(None, "counter_reset")``
    when the drop is too large to be a wrap.
    """
    if previous is None or current is None:
        return None, None
    if current >= previous:
        return current - previous, None
    wrapped = current + 2**bits - previous
    if wrapped < 2 ** (bits - 1):
        return wrapped, COUNTER_WRAP
    return None, COUNTER_RESET


def agent_restarted(previous: AgentSample, current: AgentSample) -> bool:
    """True when the agent's sysUpTime says it restarted between the two samples."""
    if previous.uptime_ticks is None or current.uptime_ticks is None:
        return False
    elapsed = current.at - previous.at
    if current.uptime_ticks < previous.uptime_ticks:
        # Either a restart or the 497-day TimeTicks wrap: a wrap advances by about `elapsed`.
        advanced = (current.uptime_ticks + SYS_UPTIME_RANGE - previous.uptime_ticks) / 100.0
        return abs(advanced - elapsed) > UPTIME_SLACK_SECONDS + 0.1 * elapsed
    # Up for less time than has passed since our previous sample: it restarted in between.
    return current.uptime_ticks / 100.0 + UPTIME_SLACK_SECONDS < elapsed


def choose_bandwidth(
    sample: InterfaceSample, contracted: Mapping[str, int]
) -> tuple[int | None, str | None]:
    """Contracted bandwidth for the interface (by ifName or ifDescr), else ifHighSpeed."""
    for key in (sample.name, sample.descr):
        if key and key in contracted and contracted[key] > 0:
            return int(contracted[key]), "contract"
    if sample.high_speed_mbps:
        return sample.high_speed_mbps * 1_000_000, "ifHighSpeed"
    return None, None


# the counters of an interface sample, and the width each wraps at
COUNTER_BITS = {
    "in_octets": COUNTER64,  # ifHCInOctets
    "out_octets": COUNTER64,  # ifHCOutOctets
    "in_errors": COUNTER32,  # ifInErrors
    "out_errors": COUNTER32,
    "in_discards": COUNTER32,  # ifInDiscards
    "out_discards": COUNTER32,
}
_COUNTERS = (
    # (sample attribute, bits, rate attribute, multiplier)
    ("in_octets", COUNTER_BITS["in_octets"], "in_bps", 8),
    ("out_octets", COUNTER_BITS["out_octets"], "out_bps", 8),
    ("in_errors", COUNTER_BITS["in_errors"], "in_errors_per_second", 1),
    ("out_errors", COUNTER_BITS["out_errors"], "out_errors_per_second", 1),
    ("in_discards", COUNTER_BITS["in_discards"], "in_discards_per_second", 1),
    ("out_discards", COUNTER_BITS["out_discards"], "out_discards_per_second", 1),
)


def _interface_rates(
    prev: InterfaceSample | None,
    cur: InterfaceSample,
    interval: float | None,
    contracted: Mapping[str, int],
) -> InterfaceRates:
    bandwidth, source = choose_bandwidth(cur, contracted)
    rates = InterfaceRates(
        cur.if_index, cur.label, bandwidth_bps=bandwidth, bandwidth_source=source
    )
    if prev is None or interval is None:
        return rates
    if prev.label != cur.label:
        rates.findings.append(IF_INDEX_CHANGED)
        return rates
    for attr, bits, rate_attr, multiplier in _COUNTERS:
        delta, finding = counter_delta(getattr(prev, attr), getattr(cur, attr), bits)
        if finding and finding not in rates.findings:
            rates.findings.append(finding)
        if delta is not None:
            setattr(rates, rate_attr, delta * multiplier / interval)
    if bandwidth:
        if rates.in_bps is not None:
            rates.in_utilisation_ratio = rates.in_bps / bandwidth
        if rates.out_bps is not None:
            rates.out_utilisation_ratio = rates.out_bps / bandwidth
    return rates


def compute_rates(
    previous: AgentSample | None,
    current: AgentSample,
    contracted: Mapping[str, int] | None = None,
) -> RateReport:
    """Rates for every interface of ``current``; none on the first poll or after a restart."""
    contracted = contracted or {}
    findings: list[str] = []
    interval: float | None = None
    if previous is not None:
        if agent_restarted(previous, current):
            findings.append(AGENT_RESTARTED)
        elif current.at > previous.at:
            interval = current.at - previous.at
    prev_ifaces = previous.interfaces if previous is not None else {}
    per_if: dict[int, InterfaceRates] = {}
    for index, sample in current.interfaces.items():
        rates = _interface_rates(prev_ifaces.get(index), sample, interval, contracted)
        per_if[index] = rates
        for f in rates.findings:
            if f not in findings:
                findings.append(f)
    return RateReport(interval, per_if, findings)


def select_interfaces(
    sample: AgentSample, wanted: list[str]
) -> tuple[list[InterfaceSample], list[str]]:
    """The interfaces to report (by ifName or ifDescr; all when ``wanted`` is empty) and
    the wanted names the agent does not have."""
    rows = [sample.interfaces[i] for i in sorted(sample.interfaces)]
    if not wanted:
        return rows, []
    chosen: list[InterfaceSample] = []
    missing: list[str] = []
    for name in wanted:
        match = next((r for r in rows if r.matches(name)), None)
        if match is None:
            missing.append(name)
        elif match not in chosen:
            chosen.append(match)
    return chosen, missing
