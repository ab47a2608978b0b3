"""Password policy, generation and hashing (GB/T 22239-2019 8.1.4.1 a: 口令复杂度、定期更换).

Policy: at least 10 characters, three of the four classes (lowercase, uppercase, digits,
others), not the user name in any case, changed every 90 days by default. Every broken rule is
returned as a :class:`Reason`, so the person fixes them all at once.

Hashes are argon2id (argon2-cffi's RFC 9106 low-memory profile: 64 MiB, 3 passes); the
password itself is never stored or logged. Verification takes the same time whether or not
the account exists (unknown names are verified against a dummy hash).
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import string
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from noc.identity.reasons import Reason

MIN_LENGTH = 10


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = MIN_LENGTH
    min_classes: int = 3
    expiry: dt.timedelta = dt.timedelta(days=90)

    def __post_init__(self) -> None:
        if self.min_length < MIN_LENGTH:
            raise ValueError(f"min_length must be at least {MIN_LENGTH}")


def character_classes(password: str) -> int:
    """Lowercase, uppercase, digits, others (symbols, spaces, CJK: anything without a case)."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not (c.islower() or c.isupper() or c.isdigit()) for c in password),
        )
    )


def check_password(
    password: str, user_name: str, policy: PasswordPolicy = PasswordPolicy()
) -> list[Reason]:
    """Every rule ``password`` breaks (empty: acceptable)."""
    reasons = []
    if len(password) < policy.min_length:
        reasons.append(
            Reason(
                "too_short",
                f"口令至少 {policy.min_length} 个字符",
                f"at least {policy.min_length} characters",
            )
        )
    if character_classes(password) < policy.min_classes:
        reasons.append(
            Reason(
                "too_simple",
                f"口令须含小写字母、大写字母、数字、其他符号中的至少 {policy.min_classes} 类",
                f"at least {policy.min_classes} of: lowercase, uppercase, digits, other characters",
            )
        )
    if password.casefold() == user_name.casefold():
        reasons.append(Reason("is_user_name", "口令不能与用户名相同", "must not be the user name"))
    return reasons


def password_expired(
    changed_at: dt.datetime, now: dt.datetime, policy: PasswordPolicy = PasswordPolicy()
) -> bool:
    return now >= changed_at + policy.expiry


_ALPHABET = string.ascii_letters + string.digits + "-_.!@#%+="


def generate_password(length: int = 20, policy: PasswordPolicy = PasswordPolicy()) -> str:
    """A random password that meets ``policy`` (all four classes), for bootstrap and resets."""
    length = max(length, policy.min_length)
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if character_classes(candidate) == 4:
            return candidate


_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing or malformed hash never matches.

    Without a hash (unknown user) a dummy hash is verified anyway, so the answer takes as long
    and does not tell whether the account exists.
    """
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """The hash was made with weaker parameters than today's: rehash at the next login."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))
