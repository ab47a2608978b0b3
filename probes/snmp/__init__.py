"""SNMP v2c/v3 probe: interface status, traffic and utilisation, device restarts; traps."""

from probes.snmp.client import (
    _AUTH_PROTOCOLS,
    _PRIV_PROTOCOLS,
    AuthProtocolName,
    PrivProtocolName,
    SnmpCredentials,
    SnmpParams,
    SnmpPoller,
    build_result,
    classify_error,
    close_default_poller,
    default_poller,
    probe_snmp,
)

__all__ = [
    "_AUTH_PROTOCOLS",
    "_PRIV_PROTOCOLS",
    "AuthProtocolName",
    "PrivProtocolName",
    "SnmpCredentials",
    "SnmpParams",
    "SnmpPoller",
    "build_result",
    "classify_error",
    "close_default_poller",
    "default_poller",
    "probe_snmp",
]
