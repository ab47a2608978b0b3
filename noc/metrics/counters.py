"""Exported ``_total`` counters fed from device counters, which never go backwards. Pure.

A device counter (SNMP ifHCInOctets, ifInErrors …) is not a Prometheus counter as it stands:
it starts again from 0 when the agent restarts, a 32-bit one wraps, and an ifIndex can be
given to another interface. So the snapshot exports, per series, the sum of the increases it
has seen since the service started (0 on the first reading):

- the increase between two readings of the same origin is ``current - previous``, or the
  wrapped difference when the drop is a wrap (``probes.snmp.rates.counter_delta``);
- a reset (a drop too large to be a wrap), a device restart (sysUpTime went back, or the
  agent has been up for less time than passed since our previous reading:
  ``probes.snmp.rates.agent_restarted``) or a reading of another origin is a new start: that
  reading becomes the new baseline and adds nothing, so the total holds still for one
  interval rather than jumping or going down.

A gap (the agent did not answer) is no break: the next reading's increase covers it, unless
the agent restarted in between.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from probes.kind import CounterReading
from probes.snmp.rates import AgentSample, agent_restarted, counter_delta


@dataclass(slots=True)
class _Track:
    last: int
    bits: int
    origin: object
    total: int


class CounterTotals:
    """Running totals of device counters, one per series key, and the device each came from."""

    def __init__(self) -> None:
        self._tracks: dict[Hashable, _Track] = {}
        self._devices: dict[Hashable, AgentSample] = {}

    def restarted(self, device: Hashable, read_at: float, uptime_seconds: float | None) -> bool:
        """Whether ``device`` restarted since its previous reading (and remember this one).

        ``read_at`` is when it was read (Unix time), ``uptime_seconds`` its sysUpTime."""
        ticks = None if uptime_seconds is None else round(uptime_seconds * 100)
        current = AgentSample(at=read_at, uptime_ticks=ticks)
        previous = self._devices.get(device)
        self._devices[device] = current
        return previous is not None and agent_restarted(previous, current)

    def advance(self, series: Hashable, reading: CounterReading, restarted: bool = False) -> int:
        """The series' total after ``reading``; ``restarted``: its device restarted since the
        previous reading, so this one is a new start."""
        track = self._tracks.get(series)
        if track is None:
            self._tracks[series] = _Track(reading.value, reading.bits, reading.origin, 0)
            return 0
        if not restarted and (track.origin, track.bits) == (reading.origin, reading.bits):
            delta, _ = counter_delta(track.last, reading.value, reading.bits)
            track.total += delta or 0  # None: a reset, a new start from this reading
        track.last, track.bits, track.origin = reading.value, reading.bits, reading.origin
        return track.total

    def total(self, series: Hashable) -> int | None:
        track = self._tracks.get(series)
        return None if track is None else track.total
