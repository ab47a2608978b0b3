"""Lockout: 5 failures within 15 min lock for 15 min, per user name and per source address."""

from __future__ import annotations

import datetime as dt

from noc.identity.lockout import Failure, LockoutPolicy, history_since, lock_state, locked_until

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def fails(*minutes: float, user: str = "liming", source: str = "192.0.2.7") -> list[Failure]:
    return [Failure(user, source, at(m)) for m in minutes]


def test_four_failures_do_not_lock():
    history = fails(0, 1, 2, 3)
    assert not lock_state(history, "liming", "192.0.2.7", at(3)).locked


def test_the_fifth_failure_within_15_minutes_locks_at_once_for_15_minutes():
    history = fails(0, 1, 2, 3, 14)
    lock = lock_state(history, "liming", "192.0.2.7", at(14))
    assert lock.locked and lock.until == at(29) and lock.by == ("user", "source")
    assert lock_state(history, "liming", "192.0.2.7", at(28.99)).locked
    assert not lock_state(history, "liming", "192.0.2.7", at(29)).locked  # released on time


def test_before_the_fifth_failure_nothing_is_locked():
    history = fails(0, 1, 2, 3, 14)
    assert not lock_state(history, "liming", "192.0.2.7", at(13.99)).locked


def test_five_failures_spread_over_15_minutes_or_more_do_not_lock():
    assert not lock_state(fails(0, 1, 2, 3, 15), "liming", "192.0.2.7", at(15)).locked
    assert not lock_state(fails(0, 5, 10, 15, 20), "liming", "192.0.2.7", at(20)).locked


def test_counted_per_source_across_user_names():
    history = [Failure(f"user{i}", "203.0.113.9", at(i)) for i in range(5)]
    lock = lock_state(history, "someone-else", "203.0.113.9", at(5))
    assert lock.locked and lock.by == ("source",) and lock.until == at(19)
    # the same names from another address are not locked: one try each so far
    assert not lock_state(history, "user0", "198.51.100.1", at(5)).locked


def test_counted_per_user_across_sources():
    history = [Failure("liming", f"198.51.100.{i}", at(i)) for i in range(5)]
    lock = lock_state(history, "liming", "198.51.100.200", at(5))
    assert lock.locked and lock.by == ("user",)
    assert not lock_state(history, "wanghong", "198.51.100.1", at(5)).locked


def test_user_names_count_case_insensitively():
    history = fails(0, 1, user="LiMing") + fails(2, 3, 4, user="liming", source="198.51.100.1")
    assert lock_state(history, "LIMING", "192.0.2.99", at(4)).by == ("user",)


def test_a_later_burst_locks_again():
    history = fails(0, 1, 2, 3, 4, 40, 41, 42, 43, 44)
    assert not lock_state(history, "liming", "192.0.2.7", at(30)).locked
    assert lock_state(history, "liming", "192.0.2.7", at(44)).until == at(59)


def test_configurable():
    policy = LockoutPolicy(
        max_failures=3, window=dt.timedelta(minutes=1), duration=dt.timedelta(hours=1)
    )
    history = fails(0, 0.5, 0.9)
    assert lock_state(history, "liming", "x", at(1), policy).until == at(60.9)
    assert not lock_state(fails(0, 0.5, 1.0), "liming", "x", at(1), policy).locked


def test_future_failures_are_ignored_and_history_since_is_enough():
    assert locked_until([at(0), at(1), at(2), at(3), at(4)], at(3)) is None
    assert history_since(at(60)) == at(30)
