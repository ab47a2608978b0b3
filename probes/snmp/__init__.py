"""SNMP v2c/v3 probe: interface status, traffic and utilisation, device restarts; traps."""

from probes.kind import ProbeKind
from probes.snmp import params, render
from probes.snmp.client import AgentMemory, SnmpPoller
from probes.snmp.codec import classify_error
from probes.snmp.oids import COLUMNS, SYS_DESCR, SYS_NAME, SYS_UPTIME
from probes.snmp.params import (
    AuthProtocolName,
    PrivProtocolName,
    SnmpCredentials,
    SnmpParams,
)
from probes.snmp.result import build_result

KIND = ProbeKind(
    "snmp",
    client=SnmpPoller,
    deadline=params.deadline,
    render=render.render,
    gauges=render.gauges,
)

__all__ = [
    "COLUMNS",
    "KIND",
    "SYS_DESCR",
    "SYS_NAME",
    "SYS_UPTIME",
    "AgentMemory",
    "AuthProtocolName",
    "PrivProtocolName",
    "SnmpCredentials",
    "SnmpParams",
    "SnmpPoller",
    "build_result",
    "classify_error",
]
