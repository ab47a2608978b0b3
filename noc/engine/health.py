"""Health of one (asset, check): hysteresis, windowed degradation, flap detection. Pure.

Each probe result becomes an :class:`Observation`; :class:`CheckHealth` folds observations
into a state (UP / DEGRADED / DOWN / UNKNOWN) and returns the events that changed:

* **DOWN** after ``fail_threshold`` consecutive failed observations, **back** after
  ``recover_threshold`` consecutive good ones. A transition is dated by the *first*
  observation of the streak that caused it — that instant is the fault start (or the
  recovery) the SLA uses, not the moment the hysteresis was satisfied.
* **DEGRADED** when a windowed metric crosses its ``enter`` threshold (for at least
  ``hold`` seconds when set — "≥ 90 % utilisation for 5 min"), and back to UP only when every
  degraded metric is below its ``leave`` threshold: separate thresholds, so a line hovering at
  the edge does not bounce. Loss is aggregated over the window by packets, not by averaging
  ratios, so one bad sample among twenty counts for what it is.
* **Flapping** is Nagios' weighted percent state change over the last 21 raw results
  (oldest weighted 0.8, newest 1.2): it starts at ≥ 20 % and stops at ≤ 5 %. While a check
  flaps, incidents stay open and notifications hold (the incident layer reads ``flapping``).

``pending`` tells the scheduler a decision is in progress (a failure streak on a check that
is not DOWN, or a success streak on one that is), so it can re-probe at short spacing and
confirm an outage in about a second instead of three intervals.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from noc.core.units import Duration
from noc.core.validation import StrictModel


class State(enum.StrEnum):
    UNKNOWN = "UNKNOWN"
    UP = "UP"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"


@dataclass(frozen=True, slots=True)
class Observation:
    """One probe result as the engine sees it; ``at`` is epoch seconds (UTC) of the probe start."""

    asset: str
    check: str
    at: float
    ok: bool
    result: str = "ok"
    reason: str = ""
    values: Mapping[str, float] = field(default_factory=dict)
    findings: tuple[str, ...] = ()


class Threshold(StrictModel):
    """Degradation rule on one measured value, with separate enter/leave levels."""

    metric: str
    enter: float
    leave: float
    hold: Duration = 0.0
    # back below ``leave`` must last this long before DEGRADED ends: a lossy line's window now and
    # then samples no loss by chance (10 % loss, 60 packets: 0.9^60 ≈ 0.2 % of windows), which
    # must not close the incident only to reopen it seconds later
    leave_hold: Duration = 30.0
    aggregate: str = Field("mean", pattern="^(mean|last|loss)$")
    min_samples: int = Field(1, ge=1)


class FlapPolicy(StrictModel):
    window: int = Field(21, ge=3, le=100)
    start: float = Field(0.20, gt=0, le=1)
    stop: float = Field(0.05, ge=0, le=1)


DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    # loss is judged on a full window only: a probe that straddles the instant a line dies loses
    # some packets, and must not raise "degraded" a second before the outage is confirmed
    Threshold(metric="loss_ratio", enter=0.05, leave=0.01, aggregate="loss", min_samples=20),
    Threshold(metric="rtt_avg_seconds", enter=0.150, leave=0.100, min_samples=3),
    Threshold(metric="jitter_seconds", enter=0.030, leave=0.020, min_samples=3),
    Threshold(metric="max_utilisation_ratio", enter=0.90, leave=0.80, hold=300.0, aggregate="last"),
    Threshold(metric="max_error_ratio", enter=0.01, leave=0.001, aggregate="last", min_samples=1),
)


class HealthPolicy(StrictModel):
    """How observations become states. Configurable per check type in the config."""

    fail_threshold: int = Field(3, ge=1, le=20)
    recover_threshold: int = Field(3, ge=1, le=20)
    window: int = Field(20, ge=1, le=1000)
    thresholds: tuple[Threshold, ...] = DEFAULT_THRESHOLDS
    flap: FlapPolicy = FlapPolicy()


@dataclass(frozen=True, slots=True)
class Transition:
    asset: str
    check: str
    from_state: State
    to_state: State
    at: float
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlapChange:
    asset: str
    check: str
    flapping: bool
    at: float
    percent_state_change: float


def percent_state_change(history: list[bool] | deque[bool], window: int = 21) -> float:
    """Nagios' weighted percent state change of the last ``window`` results, in 0..1.

    Each change between consecutive results is weighted linearly from 0.8 (oldest) to 1.2
    (newest), so recent changes count more; the sum is divided by the number of possible
    changes.
    """
    items = list(history)[-window:]
    if len(items) < 2:
        return 0.0
    changes = len(items) - 1
    total = 0.0
    for i in range(1, len(items)):
        if items[i] != items[i - 1]:
            total += 0.8 + 0.4 * (i - 1) / max(changes - 1, 1)
    return total / changes


@dataclass
class _MetricWindow:
    values: deque[float]
    weights: deque[float]
    above_since: float | None = None
    below_since: float | None = None


class CheckHealth:
    """The state machine of one (asset, check)."""

    def __init__(
        self,
        asset: str,
        check: str,
        policy: HealthPolicy | None = None,
        state: State = State.UNKNOWN,
    ):
        self.asset = asset
        self.check = check
        self.policy = policy or HealthPolicy()
        self.state = state
        self.flapping = False
        self.changed_at: float | None = None  # when the current state began (its transition's date)
        self.fail_streak = 0
        self.ok_streak = 0
        self._streak_start: float | None = None
        self._streak_reason = ""
        self._history: deque[bool] = deque(maxlen=self.policy.flap.window)
        self._windows: dict[str, _MetricWindow] = {}
        self._degraded_by: set[str] = set()
        self._left_at: float | None = None
        self.last: Observation | None = None

    # -- queries ------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """A decision is in progress: the scheduler should re-probe at short spacing."""
        if self.state is State.DOWN:
            return self.ok_streak > 0
        return self.fail_streak > 0

    def recent_max(self, name: str) -> float | None:
        """The largest value of ``name`` in the current window (e.g. the slowest recent RTT)."""
        window = self._windows.get(name)
        return max(window.values) if window is not None and window.values else None

    @property
    def failing_since(self) -> float | None:
        """When the current failure streak began, while it is short of DOWN (else None)."""
        if self.state is State.DOWN or self.fail_streak == 0:
            return None
        return self._streak_start

    @property
    def degraded_by(self) -> frozenset[str]:
        return frozenset(self._degraded_by)

    def metric(self, name: str) -> float | None:
        """The windowed value of ``name`` as the thresholds see it."""
        window = self._windows.get(name)
        if window is None or not window.values:
            return None
        threshold = next((t for t in self.policy.thresholds if t.metric == name), None)
        return _aggregate(window, threshold.aggregate if threshold else "mean")

    # -- the fold -----------------------------------------------------------------------

    def observe(self, obs: Observation) -> list[Transition | FlapChange]:
        """Fold one observation in; return the transitions and flap changes it caused."""
        events: list[Transition | FlapChange] = []
        self.last = obs
        self._history.append(obs.ok)
        if obs.ok:
            if self.ok_streak == 0:
                self._streak_start, self._streak_reason = obs.at, obs.reason
            self.ok_streak += 1
            self.fail_streak = 0
        else:
            if self.fail_streak == 0:
                self._streak_start, self._streak_reason = obs.at, obs.reason or obs.result
            self.fail_streak += 1
            self.ok_streak = 0

        if self.state is not State.DOWN:
            self._record_metrics(obs)

        if (
            not obs.ok
            and self.fail_streak >= self.policy.fail_threshold
            and self.state is not State.DOWN
        ):
            events.append(
                self._move(
                    State.DOWN,
                    self._streak_start or obs.at,
                    f"{self.fail_streak} consecutive failures: {self._streak_reason}",
                    {"result": obs.result},
                )
            )
            self._windows.clear()
            self._degraded_by.clear()
        elif obs.ok and self.state in (State.DOWN, State.UNKNOWN):
            needed = self.policy.recover_threshold if self.state is State.DOWN else 1
            if self.ok_streak >= needed:
                start = self._streak_start or obs.at
                self._update_degradation(obs.at)
                target = State.DEGRADED if self._degraded_by else State.UP
                reason = (
                    "recovered after " if self.state is State.DOWN else "first "
                ) + f"{self.ok_streak} good result(s)"
                events.append(self._move(target, start, reason, {}))
        elif self.state in (State.UP, State.DEGRADED) and self.fail_streak == 0:
            # Judged on good observations only: a failed probe may be the start of an outage,
            # and while that is being confirmed (fast re-probes) it must not first raise a
            # "degraded" fault that the outage then replaces. If the streak ends short of DOWN,
            # its lost packets are in the window and count at the next good observation.
            events.extend(self._degradation_events(obs))

        events.extend(self._flap_events(obs.at))
        return events

    # -- internals ----------------------------------------------------------------------

    def _move(self, to: State, at: float, reason: str, details: dict[str, Any]) -> Transition:
        t = Transition(self.asset, self.check, self.state, to, at, reason, details)
        self.state, self.changed_at = to, at
        return t

    def corroborated_down(self, reason: str) -> Transition:
        """DOWN now, without waiting for the rest of the confirmation streak: another witness
        (the interface reported down) agrees with the failures seen so far. Dated, like any
        DOWN, by the first failure; the loss window is cleared, as for any DOWN."""
        assert self.failing_since is not None, (
            "only a check in a failure streak can be corroborated"
        )
        t = self._move(
            State.DOWN,
            self.failing_since,
            f"{reason}; {self.fail_streak} failed probe(s): {self._streak_reason}",
            {"corroborated": True},
        )
        self._windows.clear()
        self._degraded_by.clear()
        return t

    def _record_metrics(self, obs: Observation) -> None:
        for threshold in self.policy.thresholds:
            name = threshold.metric
            if threshold.aggregate == "loss":
                sent = obs.values.get("sent")
                if sent is None or sent <= 0:
                    continue
                value, weight = obs.values.get(name, 1.0 if not obs.ok else 0.0), sent
            elif name in obs.values:
                value, weight = obs.values[name], 1.0
            else:
                continue
            window = self._windows.get(name)
            if window is None:
                window = self._windows[name] = _MetricWindow(
                    deque(maxlen=self.policy.window), deque(maxlen=self.policy.window)
                )
            window.values.append(float(value))
            window.weights.append(float(weight))

    def _update_degradation(self, now: float) -> list[tuple[str, float, float, float]]:
        """Recompute which metrics hold the check degraded; return (metric, value, level, since)."""
        entered = []
        for threshold in self.policy.thresholds:
            window = self._windows.get(threshold.metric)
            if window is None or len(window.values) < threshold.min_samples:
                continue
            value = _aggregate(window, threshold.aggregate)
            if threshold.metric in self._degraded_by:
                if value < threshold.leave:
                    window.below_since = (
                        window.below_since if window.below_since is not None else now
                    )
                    if now - window.below_since >= threshold.leave_hold:
                        self._degraded_by.discard(threshold.metric)
                        self._left_at = max(self._left_at or 0.0, window.below_since)
                        window.above_since = window.below_since = None
                else:
                    window.below_since = None
                continue
            if value >= threshold.enter:
                window.above_since = window.above_since if window.above_since is not None else now
                if now - window.above_since >= threshold.hold:
                    self._degraded_by.add(threshold.metric)
                    entered.append((threshold.metric, value, threshold.enter, window.above_since))
            else:
                window.above_since = None
        return entered

    def _degradation_events(self, obs: Observation) -> list[Transition]:
        entered = self._update_degradation(obs.at)
        if self.state is State.UP and self._degraded_by:
            metric, value, level, since = min(entered, key=lambda e: e[3])
            # dated when the condition began (a 5-minute hold still starts the fault at minute 0)
            return [
                self._move(
                    State.DEGRADED,
                    since,
                    f"{metric} {value:.4g} ≥ {level:g}",
                    {"metrics": {m: self.metric(m) for m in sorted(self._degraded_by)}},
                )
            ]
        if self.state is State.DEGRADED and not self._degraded_by:
            # dated, like entering, by when the condition ended (the hold only confirms it)
            left, self._left_at = self._left_at or obs.at, None
            return [
                self._move(
                    State.UP, left, "all degraded metrics back below their leave thresholds", {}
                )
            ]
        return []

    def _flap_events(self, now: float) -> list[FlapChange]:
        policy = self.policy.flap
        if len(self._history) < policy.window:
            return []
        pct = percent_state_change(self._history, policy.window)
        if not self.flapping and pct >= policy.start:
            self.flapping = True
            return [FlapChange(self.asset, self.check, True, now, pct)]
        if self.flapping and pct <= policy.stop:
            self.flapping = False
            return [FlapChange(self.asset, self.check, False, now, pct)]
        return []


def _aggregate(window: _MetricWindow, how: str) -> float:
    if how == "last":
        return window.values[-1]
    if how == "loss":  # packets lost / packets sent over the window
        total = sum(window.weights)
        return (
            sum(v * w for v, w in zip(window.values, window.weights, strict=True)) / total
            if total
            else 0.0
        )
    return sum(window.values) / len(window.values)
