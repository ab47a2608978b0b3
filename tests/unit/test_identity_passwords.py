"""Password policy (each rule), generation, expiry and argon2id hashing."""

from __future__ import annotations

import datetime as dt

import pytest

from noc.identity.passwords import (
    PasswordPolicy,
    check_password,
    generate_password,
    hash_password,
    needs_rehash,
    password_expired,
    verify_password,
)

UTC = dt.UTC


def codes(password: str, user: str = "liming", policy: PasswordPolicy | None = None):
    return [r.code for r in check_password(password, user, policy or PasswordPolicy())]


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Abcdef12!x", []),  # 10 characters, four classes
        ("abcdefgh1X", []),  # lower, digit, upper
        ("abcdefgh-1", []),  # lower, other, digit
        ("ABCDEFGH-1", []),  # upper, other, digit
        ("Abcdef12!", ["too_short"]),  # 9 characters
        ("abcdefghij", ["too_simple"]),  # one class
        ("abcdefgh12", ["too_simple"]),  # two classes
        ("abc", ["too_short", "too_simple"]),
        ("", ["too_short", "too_simple"]),
        ("口令口令口令口令口令1A", []),  # CJK counts as "other"
    ],
)
def test_each_rule(password, expected):
    assert codes(password) == expected


def test_not_the_user_name_in_any_case():
    assert codes("Li.Ming2026", user="li.ming2026") == ["is_user_name"]
    assert codes("LI.MING2026", user="li.ming2026") == ["is_user_name"]
    assert codes("li.ming2026x", user="li.ming2026") == []


def test_reasons_are_bilingual():
    (reason,) = check_password("Abcdef12!", "x")
    assert reason.zh == "口令至少 10 个字符" and reason.en == "at least 10 characters"
    assert str(reason) == "口令至少 10 个字符 / at least 10 characters"


def test_a_longer_minimum_is_configurable_but_not_a_shorter_one():
    assert codes("Abcdef12!x", policy=PasswordPolicy(min_length=12)) == ["too_short"]
    with pytest.raises(ValueError):
        PasswordPolicy(min_length=8)


def test_expiry_after_90_days_by_default():
    changed = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert not password_expired(changed, changed + dt.timedelta(days=90, seconds=-1))
    assert password_expired(changed, changed + dt.timedelta(days=90))
    short = PasswordPolicy(expiry=dt.timedelta(days=30))
    assert password_expired(changed, changed + dt.timedelta(days=30), short)


def test_generated_passwords_meet_the_policy():
    seen = set()
    for _ in range(50):
        pw = generate_password()
        assert len(pw) == 20 and check_password(pw, "admin") == []
        seen.add(pw)
    assert len(seen) == 50


def test_argon2id_round_trip():
    stored = hash_password("Abcdef12!x")
    assert stored.startswith("$argon2id$")
    assert "Abcdef12!x" not in stored
    assert verify_password(stored, "Abcdef12!x")
    assert not verify_password(stored, "Abcdef12!X")
    assert not verify_password(None, "Abcdef12!x")
    assert not verify_password("not-a-hash", "Abcdef12!x")
    assert hash_password("Abcdef12!x") != stored  # salted
    assert not needs_rehash(stored)
