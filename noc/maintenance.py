"""Maintenance windows (计划维护): planned work on assets, muting their alerts from creation and
excluded from the SLA's operating time once a second person approved them. Shared parsing and
presentation for the CLI and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from noc.config import NocConfig
from noc.core.errors import InputError
from noc.core.time import parse_instant
from noc.core.units import parse_duration
from noc.store.tables import MaintenanceWindow


class MaintenanceRequestError(InputError):
    """A maintenance request that cannot be accepted; the message says why."""


ENTERED_LATE_GRACE = dt.timedelta(minutes=1)
"""A window whose start is this much before it was entered is "after the fact"."""


def window_span(
    config: NocConfig, start: str | None, end: str | None, duration: str | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(config.site.timezone)
    starts = parse_instant(start, tz, error=MaintenanceRequestError) if start else now
    if (end is None) == (duration is None):
        raise MaintenanceRequestError("give exactly one of an end time or a duration")
    if end is not None:
        ends = parse_instant(end, tz, error=MaintenanceRequestError)
    else:
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise MaintenanceRequestError(f"duration {duration!r}: {exc}") from None
        try:
            ends = starts + dt.timedelta(seconds=seconds)
        except OverflowError:  # 9999-12-31T23:00 + 2h is past the last datetime
            raise MaintenanceRequestError(
                f"duration {duration!r} from {starts:%Y-%m-%d %H:%M} UTC ends after the year 9999"
            ) from None
    if ends <= starts:
        raise MaintenanceRequestError("a maintenance window must end after it starts")
    return starts, ends


def check_assets(config: NocConfig, assets: list[str]) -> list[str]:
    names = [a.strip() for a in assets if a.strip()]
    if not names:
        raise MaintenanceRequestError("name at least one asset")
    unknown = [a for a in names if a not in config.assets_by_name]
    if unknown:
        raise MaintenanceRequestError(f"unknown asset(s): {', '.join(unknown)}")
    return sorted(set(names))


def window_json(
    row: MaintenanceWindow, tz: ZoneInfo, now: dt.datetime | None = None
) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.UTC)
    effective_end = min(row.ends_at, row.ended_at) if row.ended_at else row.ends_at
    return {
        "id": row.id,
        "assets": row.assets,
        "reason": row.reason,
        "created_by": row.created_by,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "starts_at_local": row.starts_at.astimezone(tz).isoformat(timespec="minutes"),
        "ends_at_local": effective_end.astimezone(tz).isoformat(timespec="minutes"),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "active": row.starts_at <= now < effective_end,
        # planned work is planned before it starts: the SLA deducts a window only from when it was
        # entered (docs/sla.md), so a window entered late says so
        "sla_counts_from": max(row.starts_at, row.created_at).isoformat(),
        "entered_late": row.created_at > row.starts_at + ENTERED_LATE_GRACE,
        # it mutes alerts from creation; the SLA excuses it only once a second person approved
        "approved": row.approved_at is not None,
        "approved_by": row.approved_by,
        "approved_at": row.approved_at.isoformat() if row.approved_at else None,
    }
