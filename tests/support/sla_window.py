"""A level-I fault inside a planned maintenance window, and what the SLA makes of it before and
after a second person approves the window (issue 12).

September 2026, Asia/Shanghai: a window on mstp-voice 09-10 02:00–04:00 (planned the day
before), mstp-voice down 02:30–03:30 inside it, every check watched all month. Unapproved, the
window excuses nothing (one failure, one hour down, the window listed); approved, the hour is
maintenance. Shared by the store-level test (``test_sla_report``) and the console's
(``test_console_acts``), so the act through either edge is held to the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import update

from noc.config import NocConfig
from noc.engine.incidents import ActiveIncident, Change
from noc.store import Store
from noc.store.incidents import IncidentRepo
from noc.store.tables import MaintenanceWindow
from support.coverage import watched

SH = ZoneInfo("Asia/Shanghai")
HOUR = 3600
DAY = dt.timedelta(days=1)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, minute, tzinfo=SH).astimezone(dt.UTC)


WINDOW = (at(10, 2), at(10, 4))
WINDOW_LOCAL = ("2026-09-10T02:00", "2026-09-10T04:00")  # as a console form sends them
ASSETS = ["mstp-voice"]


async def planned_the_day_before(store: Store, window_id: int) -> None:
    """The window was entered on 09-09 (the test writes it today, after the fact)."""
    async with store.sessions.begin() as session:
        await session.execute(
            update(MaintenanceWindow)
            .where(MaintenanceWindow.id == window_id)
            .values(created_at=at(9, 15))
        )


async def fault_inside(
    store: Store,
    config: NocConfig,
    during: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Watch every check all September; mstp-voice level I 02:30 → 03:30 on 09-10, recovered
    automatically (``during(incident_id)`` runs while it is open). Returns the incident id."""
    await watched(store, config, at(1, 0) - dt.timedelta(days=31), at(30, 0) + DAY)
    start = at(10, 2, 30)
    inc = ActiveIncident(
        key="circuit_down:mstp-voice",
        type="circuit_down",
        root_asset="mstp-voice",
        fault_class="outage",
        severity="I",
        peak_severity="I",
        impact="critical",
        fault_started_at=start.timestamp(),
        detected_at=start.timestamp() + 20,
        members={"mstp-voice"},
        services=[
            {"service": "voice-intake", "full": True, "impact": "critical", "down": ["mstp-voice"]}
        ],
    )
    repo = IncidentRepo(store, config.site.name)
    book = {inc.key: inc}
    await repo.apply(
        [Change("opened", inc.key, inc.detected_at, {"runbook": "mstp-circuit-down"})], book
    )
    if during is not None:
        await during(inc.id)
    await repo.apply(
        [
            Change(
                "recovered",
                inc.key,
                at(10, 3, 30).timestamp(),
                {"recovery_kind": "automatic", "id": inc.id},
            )
        ],
        book,
    )
    return inc.id


async def voice_september(store: Store, config: NocConfig):  # noqa: ANN201 - (json, report)
    """The SLA of voice-intake for September 2026 (as of 09-30 23:00): its JSON and report."""
    from incident_runbooks import load_runbooks
    from sla.intervals import parse_period
    from sla.render import report_json
    from sla.report import build, parse_scope

    period = parse_period("2026-09", SH)
    scopes = parse_scope(config, "service:voice-intake")
    [report] = await build(store, config, load_runbooks(), [period], scopes, at(30, 23))
    return report_json(report, SH), report


def assert_not_excused(figures: dict, window_id: int) -> None:
    """Unapproved: the hour inside the window is downtime, and the window is listed."""
    assert figures["maintenance_seconds"] == 0
    assert figures["downtime_seconds"] == HOUR and figures["failures"] == 1
    assert figures["unapproved_maintenance"] == [
        {
            "window_id": window_id,
            "assets": ASSETS,
            "start": WINDOW[0].isoformat(),
            "end": WINDOW[1].isoformat(),
            "start_local": "2026-09-10T02:00:00+08:00",
            "end_local": "2026-09-10T04:00:00+08:00",
            "seconds_in_window": 2 * HOUR,
        }
    ]


def assert_excused(figures: dict) -> None:
    """Approved by a second person: the window's two hours are maintenance, the fault excused."""
    assert figures["maintenance_seconds"] == 2 * HOUR
    assert figures["downtime_seconds"] == 0 and figures["failures"] == 0
    assert figures["unapproved_maintenance"] == []
