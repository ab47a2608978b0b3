"""Pure ICMP statistics: RTT min/avg/max, loss and jitter from one target's packet outcomes.

Jitter is the mean absolute difference of consecutive round-trip times (the "mean
deviation of successive" RTTs, the per-packet |D| of RFC 3550 section 6.4.1, averaged
rather than exponentially smoothed so short bursts of 3-10 packets give a stable number).
Lost packets are skipped: consecutive means consecutive *received* replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IcmpStats:
    sent: int
    received: int
    loss_ratio: float
    rtt_min_seconds: float | None
    rtt_avg_seconds: float | None
    rtt_max_seconds: float | None
    jitter_seconds: float | None

    def as_values(self) -> dict[str, float]:
        """The ``ProbeResult.values`` dict; RTTs absent without replies, jitter absent below 2."""
        values = {
            "sent": float(self.sent),
            "received": float(self.received),
            "loss_ratio": self.loss_ratio,
        }
        for name in ("rtt_min_seconds", "rtt_avg_seconds", "rtt_max_seconds", "jitter_seconds"):
            value = getattr(self, name)
            if value is not None:
                values[name] = value
        return values


def jitter(rtts: Sequence[float]) -> float | None:
    """Mean |rtt[i] - rtt[i-1]|; ``None`` with fewer than two RTTs."""
    if len(rtts) < 2:
        return None
    return sum(abs(b - a) for a, b in zip(rtts, rtts[1:], strict=False)) / (len(rtts) - 1)


def icmp_stats(rtts: Sequence[float | None]) -> IcmpStats:
    """Stats for one target; ``rtts`` is one entry per packet sent, ``None`` when lost."""
    sent = len(rtts)
    got = [r for r in rtts if r is not None]
    received = len(got)
    return IcmpStats(
        sent=sent,
        received=received,
        loss_ratio=(sent - received) / sent if sent else 1.0,
        rtt_min_seconds=min(got) if got else None,
        rtt_avg_seconds=sum(got) / received if got else None,
        rtt_max_seconds=max(got) if got else None,
        jitter_seconds=jitter(got),
    )
