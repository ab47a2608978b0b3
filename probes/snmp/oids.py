"""The OIDs one interface poll reads: a few scalars and the IF-MIB columns we need."""

from __future__ import annotations

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1)
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3)
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1)
_IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
_IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
COLUMNS: dict[str, tuple[int, ...]] = {
    "descr": _IF_ENTRY + (2,),
    "admin_status": _IF_ENTRY + (7,),
    "oper_status": _IF_ENTRY + (8,),
    "in_discards": _IF_ENTRY + (13,),
    "in_errors": _IF_ENTRY + (14,),
    "out_discards": _IF_ENTRY + (19,),
    "out_errors": _IF_ENTRY + (20,),
    "name": _IFX_ENTRY + (1,),
    "in_octets": _IFX_ENTRY + (6,),
    "out_octets": _IFX_ENTRY + (10,),
    "high_speed_mbps": _IFX_ENTRY + (15,),
}
TEXT_COLUMNS = {"descr", "name"}
# Non-repeaters of the first GETBULK. ifNumber lets a walk stop as soon as every column
# holds that many rows, so the next poll asks for exactly as many repetitions as rows.
SCALAR_KEYS = (
    (SYS_UPTIME, "uptime"),
    (SYS_NAME, "name"),
    (SYS_DESCR, "descr"),
    (IF_NUMBER, "if_number"),
)
# IF-MIB ifAdminStatus / ifOperStatus values
IF_STATUS = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}
