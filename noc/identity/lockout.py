"""Login lockout as a pure function of the failure history and the time (GB/T 22239 8.1.4.1 b).

Five failures within 15 minutes lock for 15 minutes from the fifth, counted separately per user
name (as typed, case-insensitively, whether or not the account exists) and per source address,
so neither guessing one account from many addresses nor many accounts from one address gets
more than four tries per window. The refusal never says which count tripped or whether the
account exists (:data:`LOCKED`).

"Within the window" is half-open: the fifth failure counts if it comes less than ``window``
after the first of the five. The lock ends at ``until`` exactly. Attempts refused *because* of
a lock are not failures (the login flow does not record them), so a lock ends on time;
releasing a lock early (``lockout.release``) deletes the recorded failures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from noc.identity.reasons import Reason

LOCKED = Reason(
    "locked",
    "登录失败次数过多，请稍后再试",
    "too many failed logins; try again later",
)
BAD_CREDENTIALS = Reason("bad_credentials", "用户名或口令错误", "wrong user name or password")


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    duration: dt.timedelta = dt.timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= dt.timedelta(0):
            raise ValueError("lockout needs max_failures ≥ 1 and a positive window")


@dataclass(frozen=True)
class Failure:
    user: str
    source: str
    at: dt.datetime


@dataclass(frozen=True)
class Lock:
    until: dt.datetime | None = None
    by: tuple[str, ...] = ()

    @property
    def locked(self) -> bool:
        return self.until is not None


def locked_until(
    times: Iterable[dt.datetime], now: dt.datetime, policy: LockoutPolicy = LockoutPolicy()
) -> dt.datetime | None:
    """When the lock caused by these failure times ends, or None when not locked at ``now``."""
    past: Sequence[dt.datetime] = sorted(t for t in times if t <= now)
    n = policy.max_failures
    until = None
    for i in range(n - 1, len(past)):
        if past[i] - past[i - n + 1] < policy.window:
            end = past[i] + policy.duration
            until = end if until is None or end > until else until
    return until if until is not None and now < until else None


def lock_state(
    failures: Iterable[Failure],
    user: str,
    source: str,
    now: dt.datetime,
    policy: LockoutPolicy = LockoutPolicy(),
) -> Lock:
    """Whether a login as ``user`` from ``source`` is locked at ``now``, and until when."""
    history = list(failures)
    key = user.casefold()
    by_user = locked_until((f.at for f in history if f.user.casefold() == key), now, policy)
    by_source = locked_until((f.at for f in history if f.source == source), now, policy)
    found = [(u, why) for u, why in ((by_user, "user"), (by_source, "source")) if u is not None]
    if not found:
        return Lock()
    return Lock(until=max(u for u, _ in found), by=tuple(why for _, why in found))


def history_since(now: dt.datetime, policy: LockoutPolicy = LockoutPolicy()) -> dt.datetime:
    """The oldest failure that can still matter at ``now`` (what the store needs to load)."""
    return now - policy.window - policy.duration
