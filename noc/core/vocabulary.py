"""The words every part of the NOC shares: severity levels, fault classes and types, impacts,
asset kinds, recovery kinds and the SLA burn-rate windows. Pure data, no project import.

Written once here so the engine, the alerting pipeline, the runbooks, the SLA formulas, the
metrics and the Grafana builder cannot drift apart (they did: the SLA board showed a 1× slow
burn where the engine alerts at 3×). Each closed set is a ``Literal`` and its tuple is read
from it, so the type a model validates and the list a loop walks are the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, NamedTuple, get_args

from pydantic import BeforeValidator

# --- severity levels ---------------------------------------------------------------------------

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "I": ("特别重大", "critical"),
    "II": ("重大", "major"),
    "III": ("较大", "significant"),
    "IV": ("一般", "minor"),
}
"""Level → (Chinese, English) name; level I is the most severe."""

LEVELS: tuple[str, ...] = tuple(LEVEL_NAMES)
LEVEL_ALIASES: dict[str, str] = {
    **{f"P{i}": level for i, level in enumerate(LEVELS, start=1)},
    **{str(i): level for i, level in enumerate(LEVELS, start=1)},
}
"""``P1``…``P4`` (and ``1``…``4``), as other tools write levels, for ``I``…``IV``."""


def normalize_level(value: object) -> object:
    """Accept P1…P4 (and 1…4) as aliases of I…IV; anything else is returned unchanged."""
    if isinstance(value, int | str) and str(value).upper() in LEVEL_ALIASES:
        return LEVEL_ALIASES[str(value).upper()]
    return value


Level = Annotated[Literal["I", "II", "III", "IV"], BeforeValidator(normalize_level)]


def more_severe(a: str, b: str) -> str:
    return a if LEVELS.index(a) <= LEVELS.index(b) else b


def most_severe(levels: Iterable[str], default: str = "IV") -> str:
    result = default
    for level in levels:
        result = more_severe(result, level)
    return result


# --- faults and their impact -------------------------------------------------------------------

FaultClass = Literal["outage", "degraded", "congested", "minor"]
FAULT_CLASSES: tuple[str, ...] = get_args(FaultClass)
"""The rows of the severity matrix, most serious first."""

Impact = Literal["critical", "major", "moderate", "minor", "none"]
IMPACTS: tuple[str, ...] = get_args(Impact)
"""How much of the platform a fault takes away (the matrix's columns), worst first."""

FAULT_NAMES: dict[str, tuple[str, str]] = {
    "circuit_down": ("专线中断", "circuit down"),
    "circuit_degraded": ("专线质量劣化", "circuit degraded"),
    "circuit_congested": ("专线拥塞", "circuit congested"),
    "internet_down": ("互联网线路中断", "internet line down"),
    "internet_degraded": ("互联网线路劣化", "internet line degraded"),
    "gateway_unreachable": ("语音网关不可达", "voice gateway unreachable"),
    "gateway_degraded": ("语音网关异常", "voice gateway degraded"),
    "sip_trunk_error": ("SIP中继故障", "SIP trunk error"),
    "phone_unreachable": ("固话不可达", "phone unreachable"),
    "phones_unreachable": ("办公固话不可达", "office phones unreachable"),
    "router_down": ("路由器宕机", "router down"),
    "router_reboot": ("路由器重启", "router rebooted"),
    "snmp_agent_lost": ("SNMP代理失联", "SNMP agent lost"),
}
"""Every fault type the engine can raise, in Chinese and English (``phones_unreachable`` is the
grouped phone incident); a runbook covers each one."""

FAULT_TYPES: tuple[str, ...] = tuple(FAULT_NAMES)

# --- assets ------------------------------------------------------------------------------------

AssetKind = Literal["mstp_circuit", "internet_line", "voice_gateway", "phone", "router", "switch"]
ASSET_KINDS: tuple[str, ...] = get_args(AssetKind)
CIRCUIT_KINDS: tuple[str, ...] = ("mstp_circuit", "internet_line")
"""Lines with a contracted bandwidth: their SNMP interface counters give rate and utilisation."""

# --- recovery and the SLA ----------------------------------------------------------------------

RecoveryKind = Literal["automatic", "manual"]
RECOVERY_KINDS: tuple[str, ...] = get_args(RecoveryKind)
"""A recovery is *manual* when a runbook step changed the network, else *automatic*; the
contract gives each its own MTTR target (15 min / 24 h)."""

RECOVERY_NAMES: dict[str, tuple[str, str]] = {
    "automatic": ("自动恢复", "automatic"),
    "manual": ("人工恢复", "manual"),
}

LOOKBACK_SECONDS: dict[str, int] = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
}
"""The look-back windows of the error-budget burn rate, shortest first."""

BURN_RATE_LOOKBACKS: tuple[str, ...] = tuple(LOOKBACK_SECONDS)


class BurnAlert(NamedTuple):
    """Alert when the budget burns faster than ``factor`` over both ``short`` and ``long``."""

    severity: str  # "page" or "ticket"
    short: str
    long: str
    factor: float


BURN_ALERTS: tuple[BurnAlert, ...] = (
    BurnAlert("page", "5m", "1h", 14.4),
    BurnAlert("page", "30m", "6h", 6.0),
    BurnAlert("ticket", "2h", "1d", 3.0),
    BurnAlert("ticket", "6h", "3d", 1.0),
)
"""Sloth's multi-window, multi-burn-rate table, as docs/sla.md states it (Sloth's own values:
the issue's "2h/1d at 1×" is not Sloth's)."""


# --- the contract scorecard (考核标准) ------------------------------------------------------------

KPI_NAMES: dict[str, tuple[str, str]] = {
    "answer_rate": ("接通率", "answer rate"),
    "spot_check": ("抽检达标率", "spot-check compliance"),
    "instant_answer": ("咨询类办件即时答复率", "instant answers to enquiries"),
    "callback_on_time": ("按时回访率", "callback on time"),
    "satisfaction": ("满意率", "satisfaction"),
    "complaints": ("有理由投诉", "justified complaints"),
    "staffing": ("岗位人员配备", "staffing"),
    "reports": ("常态报告/数据提交及时准确", "reports on time and accurate"),
    "emergencies": ("突发事件响应处置", "emergency response"),
    "platform_faults": ("运行维护指标", "platform fault response"),
    "commendations": ("奖励指标", "commendations"),
}
"""The tender's eleven indicators in its order (docs/kpi.md): id → (Chinese, English) name."""

KPI_INDICATORS: tuple[str, ...] = tuple(KPI_NAMES)

KPI_TENDER_TARGETS: dict[str, float] = {
    "answer_rate": 0.95,
    "spot_check": 1.0,
    "instant_answer": 0.5,
    "callback_on_time": 1.0,
    "satisfaction": 0.95,
    "platform_faults": 1.0,
}
"""The rate indicators' targets as the tender states them (接通率 95 %, 抽检达标率 100 % …):
the default of ``kpi.targets``, and the thresholds of the 运营考核 board."""
