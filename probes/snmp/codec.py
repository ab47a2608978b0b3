"""Decoding what an agent sent: pysnmp outcomes to result codes, varbinds to a sample.

``classify_error`` is the one place library outcomes (pysnmp error indications, socket
errors) become result codes. The rest turns GETBULK answers into an ``AgentSample``; a value
of the wrong type counts as absent rather than failing the poll.
"""

from __future__ import annotations

import time
from typing import Any

from probes.base import ResultCode
from probes.snmp.oids import TEXT_COLUMNS
from probes.snmp.rates import AgentSample, InterfaceSample


def classify_error(indication: Any, *, version: str) -> tuple[ResultCode, str]:
    """Map a pysnmp error indication (or exception) to a result code and a reason."""
    from pysnmp.proto import errind

    text = str(indication) or type(indication).__name__
    if isinstance(indication, errind.RequestTimedOut):
        hint = "wrong community?" if version == "2c" else "wrong privacy key or agent down?"
        return ResultCode.TIMEOUT, f"no answer ({hint})"
    if isinstance(
        indication,
        errind.UnknownUserName
        | errind.WrongDigest
        | errind.DecryptionError
        | errind.AuthenticationFailure
        | errind.AuthenticationError
        | errind.UnknownCommunityName
        | errind.UnsupportedSecurityLevel
        | errind.UnknownSecurityName,
    ):
        return ResultCode.AUTH_FAILED, f"agent rejected credentials: {text}"
    if isinstance(indication, errind.NotInTimeWindow | errind.UnknownEngineID):
        return ResultCode.AUTH_FAILED, f"SNMPv3 engine discovery failed: {text}"
    if isinstance(indication, errind.ReportPduReceived):
        return ResultCode.ERROR_RESPONSE, f"agent sent a report PDU: {text}"
    if isinstance(
        indication,
        errind.DeserializationError
        | errind.InvalidMsg
        | errind.DataMismatch
        | errind.EngineIDMismatch
        | errind.OidNotIncreasing
        | errind.EmptyResponse,
    ):
        return ResultCode.MALFORMED, f"bad reply: {text}"
    if isinstance(indication, ConnectionRefusedError):
        return ResultCode.REFUSED, "port unreachable"
    if isinstance(indication, OSError):
        return ResultCode.UNREACHABLE, f"network error: {text}"
    if isinstance(indication, errind.EncryptionError | errind.NoEncryption):
        return ResultCode.ERROR, f"local crypto unavailable: {text}"
    return ResultCode.ERROR, f"{type(indication).__name__}: {text}"


def error_status_reason(status: Any, index: Any, varbinds: Any) -> str:
    name = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
    at = ""
    try:
        if int(index) and varbinds:
            at = f" at {varbinds[int(index) - 1][0]}"
    except (IndexError, TypeError, ValueError):
        pass
    return f"agent answered with error-status {name}{at}"


def carry_descr(
    table: dict[int, dict[str, Any]], cache: dict[int, tuple[str, Any]] | None
) -> dict[int, tuple[str, Any]] | None:
    """Fill ifDescr from the cache when it was not read; return the cache for next time,
    or None (read ifDescr next poll) when a row has no ifName or its name changed."""
    fresh: dict[int, tuple[str, Any]] = {}
    for index, row in table.items():
        name = as_text(row.get("name"))
        if "descr" not in row:
            if cache is None or index not in cache or cache[index][0] != name:
                return None
            row["descr"] = cache[index][1]
        if not name:
            return None
        fresh[index] = (name, row["descr"])
    return fresh


def consume_rows(rows, active, names, columns, cursors, table, counts) -> bool:
    """Fold one GETBULK answer into ``table``; advance or finish each column's cursor."""
    width = len(active)
    advanced = False
    for pos, (oid, value) in enumerate(rows):
        col = active[pos % width]
        if cursors[col] is None:
            continue
        oid = tuple(oid)
        base = columns[col]
        if is_exception(value) or oid[: len(base)] != base or len(oid) != len(base) + 1:
            cursors[col] = None  # left the column (or endOfMibView): this column is done
            continue
        if oid <= cursors[col]:
            cursors[col] = None  # not increasing: stop rather than loop forever
            continue
        cursors[col] = oid
        table.setdefault(oid[-1], {})[names[col]] = value
        counts[col] += 1
        advanced = True
    return advanced


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_exception(value: Any) -> bool:
    from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

    return isinstance(value, EndOfMibView | NoSuchObject | NoSuchInstance)


def make_sample(table: dict[int, dict[str, Any]], sys_info: dict[str, Any]):
    interfaces: dict[int, InterfaceSample] = {}
    for index, row in table.items():
        fields: dict[str, Any] = {}
        for key, value in row.items():
            if key in TEXT_COLUMNS:
                fields[key] = as_text(value)
            else:
                fields[key] = int_or_none(value)  # a wrongly typed value counts as absent
        interfaces[index] = InterfaceSample(if_index=index, **fields)
    sample = AgentSample(
        at=time.monotonic(),
        uptime_ticks=int_or_none(sys_info.get("uptime")),
        interfaces=interfaces,
    )
    info = {
        "sys_name": as_text(sys_info.get("name", "")),
        "sys_descr": as_text(sys_info.get("descr", "")),
    }
    return sample, info


def as_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    raw = value.asOctets() if hasattr(value, "asOctets") else bytes(str(value), "utf-8")
    return raw.decode("utf-8", errors="replace").rstrip("\x00").strip()
