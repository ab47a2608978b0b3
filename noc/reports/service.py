"""The monthly report on demand, for the console's 月报 page and ``GET /api/v1/reports/monthly``
(docs/report.md, "From the console and the API").

A full month takes seconds of CPU (about 15 s measured on a busy machine: a month of calls and
tickets read and turned into figures, the charts, then the DOCX or the PDF). So the service:

- **works off its event loop**: the whole generation — the store read, the build, the drawing —
  runs on a :class:`noc.core.aio.LoopThread` with a store connection of its own (as the KPI
  gauges do), so probes, scrapes and pages keep answering meanwhile;
- **makes one report at a time**: a request for the report being made waits for it and gets the
  same bytes; a request for another one is refused at once with :class:`ReportBusy` (503 with
  ``Retry-After``: the expected rest of the running one) instead of queueing, so a burst of
  clicks never stacks minutes of CPU behind each other;
- **keeps the bytes briefly**: per (period, format, language, as-of minute), for
  :data:`KEEP_SECONDS`, at most :data:`KEEP_FILES` files; :meth:`MonthlyReports.forget` drops
  them (a register entry from the console does).

A generation outlives the request that started it: a browser that gives up wastes nothing, the
next click gets the kept file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from kpi.breakdown import months_of
from noc.config import NocConfig
from noc.core.aio import LoopThread, cancel_and_wait
from noc.core.errors import InputError, UnavailableError
from noc.core.logs import get_logger
from noc.reports.monthly import FORMATS, LANGS, MEDIA_TYPES, draw, file_name, monthly_document
from noc.store.repo import Store

log = get_logger("noc.reports")

KEEP_SECONDS = 120.0
KEEP_FILES = 8  # a month's PDF is a few hundred kB to a few MB
FIRST_GUESS_SECONDS = 15.0  # the Retry-After before any report was timed


class ReportBusy(UnavailableError):
    """Another report is being generated (503, with ``retry_after``)."""


@dataclass(frozen=True)
class ReportKey:
    """Which report: a calendar month, a format, a language, and the minute it is as of."""

    period: str
    fmt: str
    lang: str
    as_of: dt.datetime  # UTC, whole minutes

    def describe(self) -> str:
        return f"{self.period} {self.fmt} {self.lang}"


@dataclass(frozen=True)
class ReportFile:
    key: ReportKey
    data: bytes
    seconds: float  # how long it took to make
    cached: bool = False  # handed out again from the kept files

    @property
    def filename(self) -> str:
        return file_name(self.key.period, self.key.fmt, self.key.lang)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.key.fmt]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def last_full_month(now: dt.datetime, tz: ZoneInfo) -> str:
    """The site's last complete calendar month at ``now`` (``2026-11`` on any day of December)."""
    first = now.astimezone(tz).date().replace(day=1)
    before = first - dt.timedelta(days=1)
    return f"{before.year:04d}-{before.month:02d}"


def report_key(period: str, fmt: str, lang: str, as_of: dt.datetime, tz: ZoneInfo) -> ReportKey:
    """The key of a request, checked: a calendar month, a known format and language (an
    :class:`InputError` naming the value otherwise); ``as_of`` cut to its minute."""
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if lang not in LANGS:
        raise InputError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    period = period.strip()
    months_of(period, tz)  # PeriodError (400) naming the accepted form
    minute = as_of.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return ReportKey(period, fmt, lang, minute)


class MonthlyReports:
    """The service's one report maker (see the module): :meth:`get` a :class:`ReportKey`."""

    def __init__(
        self,
        db_url: str,
        config: NocConfig,
        runbooks,  # noqa: ANN001 - incident_runbooks.loader.RunbookSet
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.db_url, self.config, self.runbooks = db_url, config, runbooks
        self._clock = clock
        self._worker: LoopThread | None = None
        self._files: dict[ReportKey, tuple[float, ReportFile]] = {}
        self._running: tuple[ReportKey, asyncio.Task, float] | None = None
        self._epoch = 0  # moved by forget(): a report begun before is not kept
        self.expected_seconds = FIRST_GUESS_SECONDS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.site.timezone)

    @property
    def running(self) -> ReportKey | None:
        return self._running[0] if self._running else None

    def forget(self) -> None:
        """Drop the kept files (the data behind them changed)."""
        self._files.clear()
        self._epoch += 1

    async def get(self, key: ReportKey) -> ReportFile:
        """The report's file: kept, being made (wait for it), or made now; :class:`ReportBusy`
        while another one is being made."""
        now = self._clock()
        for old in [k for k, (at, _) in self._files.items() if now - at > KEEP_SECONDS]:
            del self._files[old]
        kept = self._files.get(key)
        if kept is not None:
            return replace(kept[1], cached=True)
        if self._running is not None:
            running, task, started = self._running
            if running != key:
                left = max(1, math.ceil(self.expected_seconds - (now - started)))
                raise ReportBusy(
                    f"正在生成另一份月报（{running.describe()}），请约 {left} 秒后再试 / another "
                    f"report ({running.describe()}) is being generated; try again in about "
                    f"{left} s",
                    retry_after=left,
                )
        else:
            task = asyncio.create_task(self._make(key), name=f"monthly report {key.describe()}")
            self._running = (key, task, now)
            task.add_done_callback(self._done)
        # shielded: a request that goes away leaves the report to be made and kept
        return await asyncio.shield(task)

    def _done(self, task: asyncio.Task) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("monthly_report_failed", reason=str(task.exception()))

    async def _make(self, key: ReportKey) -> ReportFile:
        epoch, started = self._epoch, self._clock()
        if self._worker is None:
            self._worker = LoopThread("monthly report")

        async def work(state: dict) -> bytes:  # on the worker's loop
            if "store" not in state:
                state["store"] = await Store.open(self.db_url, migrate=False)
            doc = await monthly_document(
                state["store"], self.config, self.runbooks, key.period, key.as_of, key.lang
            )
            return draw(doc, key.fmt)

        data = await self._worker.run(work)
        seconds = self._clock() - started
        self.expected_seconds = seconds
        made = ReportFile(key, data, seconds)
        if epoch == self._epoch:
            self._files[key] = (self._clock(), made)
            for old in sorted(self._files, key=lambda k: self._files[k][0])[:-KEEP_FILES]:
                del self._files[old]
        log.info(
            "monthly_report_made",
            period=key.period,
            format=key.fmt,
            lang=key.lang,
            as_of=key.as_of.isoformat(),
            bytes=len(data),
            seconds=round(seconds, 2),
        )
        return made

    async def close(self) -> None:
        """Stop a report being made, close the worker's store and its thread."""
        if self._running is not None:
            await cancel_and_wait([self._running[1]], patience=2.0)
        if self._worker is not None:

            async def close_store(state: dict) -> None:
                if "store" in state:
                    await state["store"].close()

            await self._worker.close(close_store)


__all__ = [
    "FIRST_GUESS_SECONDS",
    "KEEP_FILES",
    "KEEP_SECONDS",
    "MonthlyReports",
    "ReportBusy",
    "ReportFile",
    "ReportKey",
    "last_full_month",
    "report_key",
]
