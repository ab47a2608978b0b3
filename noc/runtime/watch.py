"""The service recording when it was watching: its run and each check's fresh results.

Why: the SLA counts monitored time only (docs/sla.md, "Monitoring coverage"), so the service
must leave evidence of when it observed. Per check, in memory, the current *stretch* of fresh
results (first and last result, first and last good one); a result more than the check's stale
limit (``sla.coverage.stale_after`` × its interval, plus the probe's deadline: a probe of a dead
target runs to its timeout) after the previous one closes the stretch at that previous result
and opens a new one. Every result counts as fresh, a failure too: a circuit whose CE router
does not answer is being watched (the router's outage is seen and charged), so that time must
never turn into unmonitored time that would hide it. Every heartbeat
(``sla.coverage.heartbeat``, 30 s) writes the run's heartbeat and the stretches in one
transaction; a stretch whose results went stale is closed at its last result. A clean stop writes a last heartbeat as the run's end; a
crash leaves the last heartbeat as the end, so at most one heartbeat of watching is lost and
none is ever invented.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from noc.config import NocConfig
from noc.core.aio import cancel_and_wait, wait_event
from noc.core.logs import get_logger
from noc.engine.observe import CheckRef, to_observation
from noc.runtime.planning import plan_all
from noc.store.coverage import CoverageRepo, Stretch
from probes.base import ProbeResult

log = get_logger("noc.runtime.watch")

Key = tuple[str, str]  # (asset, check)


@dataclass
class _Live:
    """One check's current stretch (epoch seconds); ``row_id`` once written."""

    since: float
    last: float
    first_ok: float | None = None
    last_ok: float | None = None
    row_id: int | None = None

    def stretch(self, key: Key, closed: bool) -> Stretch:
        return Stretch(
            key[0],
            key[1],
            _ts(self.since),
            _ts(self.last),
            _ts(self.first_ok),
            _ts(self.last_ok),
            closed,
            self.row_id,
        )


class Watch:
    """Start with :meth:`start`, feed with :meth:`observe`, stop with :meth:`stop`."""

    def __init__(
        self,
        repo: CoverageRepo,
        site: str,
        limits: Mapping[Key, float],
        heartbeat: float = 30.0,
        checks: list[dict] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.repo = repo
        self.site = site
        self.limits = dict(limits)  # check → stale limit, seconds
        self.heartbeat = heartbeat
        self.checks = (
            checks
            if checks is not None
            else [
                {"asset": a, "check": c, "stale_after": s} for (a, c), s in sorted(limits.items())
            ]
        )
        self.clock = clock
        self.run_id: int | None = None
        self._live: dict[Key, _Live] = {}
        self._closed: list[tuple[Key, _Live]] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    @classmethod
    def for_config(cls, config: NocConfig, repo: CoverageRepo) -> Watch:
        """Every planned check with its stale limit (``stale_after`` × its interval + deadline)."""
        settings = config.sla.coverage
        plans = plan_all(config)
        limits = {p.ref.key: p.interval * settings.stale_after + p.deadline for p in plans}
        checks = [
            {
                "asset": p.ref.asset,
                "check": p.ref.check,
                "interval": p.interval,
                "stale_after": limits[p.ref.key],
            }
            for p in plans
        ]
        return cls(repo, config.site.name, limits, settings.heartbeat, checks)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Record the run and start the heartbeat."""
        self.run_id = await self.repo.start_run(
            self.site, _ts(self.clock()), self.checks, socket.gethostname(), os.getpid()
        )
        self._task = asyncio.create_task(self._beats(), name="watch heartbeat")
        log.info(
            "watch_started", run=self.run_id, checks=len(self.limits), heartbeat=self.heartbeat
        )

    async def stop(self) -> None:
        """A clean stop: every stretch closed at its last result, the run ended now."""
        self._stop.set()
        if self._task is not None:
            await cancel_and_wait([self._task])
        if self.run_id is None:
            return
        try:
            await self.beat(stop=True)
        except Exception as exc:  # the store is gone: as after a crash, the last heartbeat ends it
            log.warning("watch_stop_unrecorded", run=self.run_id, error=str(exc))
            return
        log.info("watch_stopped", run=self.run_id)

    async def _beats(self) -> None:
        while not await wait_event(self._stop, self.heartbeat):
            try:
                await self.beat()
            except Exception:  # the store may be briefly away: the run simply ends earlier
                log.exception("watch_heartbeat_failed", run=self.run_id)

    # -- the fold -----------------------------------------------------------------------------

    def observe_result(self, ref: CheckRef, result: ProbeResult) -> None:
        """A probe result: fresh, whatever it says; good if its observation is (an SNMP circuit
        polled on a router that did not answer has none: watched, but not seen good)."""
        obs = to_observation(ref, result)
        self.observe(ref.key, result.started_at or self.clock(), obs is not None and obs.ok)

    def observe(self, key: Key, at: float, ok: bool) -> None:
        limit = self.limits.get(key)
        if limit is None:
            return
        live = self._live.get(key)
        if live is not None and at - live.last > limit:  # a gap: the stretch ended at its last
            self._closed.append((key, live))
            live = None
        if live is None:
            live = self._live[key] = _Live(at, at)
        live.last = max(live.last, at)
        if ok:
            live.first_ok = at if live.first_ok is None else live.first_ok
            live.last_ok = at

    async def beat(self, *, stop: bool = False) -> None:
        """Write the heartbeat and every stretch; stale ones (and all, on ``stop``) closed."""
        now = self.clock()
        closed, self._closed = self._closed, []
        for key, live in list(self._live.items()):
            if stop or now - live.last > self.limits[key]:
                closed.append((key, self._live.pop(key)))
        open_ = list(self._live.items())
        batch = [(k, v, True) for k, v in closed] + [(k, v, False) for k, v in open_]
        try:
            ids = await self.repo.beat(
                self.run_id,
                self.site,
                _ts(now),
                [live.stretch(key, shut) for key, live, shut in batch],
                stop=stop,
            )
        except BaseException:
            self._closed = closed + self._closed  # written at the next heartbeat
            raise
        for (_, live, _), row_id in zip(batch, ids, strict=True):
            live.row_id = row_id


def _ts(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC)
