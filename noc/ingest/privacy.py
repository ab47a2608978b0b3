"""Caller numbers: never kept in clear. A keyed hash finds repeat callers, a masked form is what
people see, and only ``privacy.store_caller: encrypted`` keeps the number itself, encrypted.

Why a *keyed* hash (HMAC-SHA256): there are only about 10^11 Chinese mobile numbers, so a plain
SHA-256 of one is reversed by trying them all in hours. With a key kept out of the database
(``NOC_CALLER_HASH_KEY``), a stolen dump gives neither the numbers nor a way to test a guess.
The key must stay the same for the life of the store: hashes (and so repeat-caller counts and
the de-duplication of re-imported files) depend on it.

Numbers are normalised before hashing, so ``+86 138 0013 8000`` and ``13800138000`` are one
caller, and ``0898-8330 1234`` and ``+86 898 83301234`` another.

Masking (what every API answer and listing shows):

=================================  =================  ==================
kind                               example            masked
=================================  =================  ==================
mobile (11 digits, 1…)             13800138000        138****8000
landline with area code            089883301234       0898-****1234
local number, no area code (7–8)   83301234           ****1234
short / service number (3–6)       12345              1***5
international (+…)                 +4420794601234     +44****1234
anything else of 9+ digits         …                  first 3 ****last 4
=================================  =================  ==================
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from noc.core.errors import UnavailableError
from noc.ingest.fields import Invalid, _text

NO_NUMBER = {
    "anonymous",
    "unknown",
    "restricted",
    "private",
    "unavailable",
    "匿名",
    "未知",
    "无主叫",
}
_STRIP = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"^\+?\d+$")


class PrivacyKeyMissing(UnavailableError):
    """A caller number arrived but no hash key is configured: refuse rather than store it badly."""


@dataclass(frozen=True)
class Caller:
    """A protected caller: what the store keeps instead of the number."""

    hash: str  # HMAC-SHA256 hex of the normalised number
    masked: str  # 138****8000
    encrypted: str | None = None  # Fernet token, only with store_caller: encrypted


def normalize(raw: object) -> str | None:
    """The number in one canonical form (digits, ``+`` only for non-Chinese numbers); ``None``
    when there is no number (empty, anonymous); :class:`Invalid` when it is not a number."""
    text = _text(raw)
    if text is None or text.lower() in NO_NUMBER:
        return None
    compact = _STRIP.sub("", text)
    if not _DIGITS.match(compact):
        raise Invalid(f"{text!r} is not a phone number")
    if compact.startswith("+86"):
        national = compact[3:]
    elif compact.startswith("0086"):
        national = compact[4:]
    elif compact.startswith("+"):
        digits = compact[1:]
        if not 3 <= len(digits) <= 20:
            raise Invalid(f"{text!r} must have 3 to 20 digits")
        return compact
    elif len(compact) == 13 and compact.startswith("861"):
        national = compact[2:]
    else:
        national = compact
    if compact != national and not (national.startswith("1") and len(national) == 11):
        national = national if national.startswith("0") else "0" + national
    if not 3 <= len(national) <= 20:
        raise Invalid(f"{text!r} must have 3 to 20 digits")
    return national


def mask(number: str) -> str:
    """The form people see; ``number`` is a :func:`normalize`\\ d number."""
    if number.startswith("+"):
        return number[:3] + "****" + number[-4:]
    n = len(number)
    if n == 11 and number.startswith("1"):
        return number[:3] + "****" + number[-4:]
    if number.startswith("0") and 10 <= n <= 12:
        area = 3 if number[1] in "12" else 4
        return number[:area] + "-****" + number[-4:]
    if n in (7, 8):
        return "****" + number[-4:]
    if n <= 6:
        return number[0] + "*" * (n - 2) + number[-1]
    return number[:3] + "****" + number[-4:]


class CallerProtector:
    """Turns a raw number into a :class:`Caller`, with the site's keys."""

    def __init__(self, hash_key: str | None, encryption_key: str | None = None):
        self._hash_key = hash_key.encode() if hash_key else None
        self._fernet = Fernet(encryption_key.encode()) if encryption_key else None

    @property
    def can_hash(self) -> bool:
        return self._hash_key is not None

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def keyed_hash(self, data: str) -> str:
        if self._hash_key is None:
            raise PrivacyKeyMissing(
                "caller numbers cannot be stored: no caller hash key "
                "(set NOC_CALLER_HASH_KEY or privacy.hash_key; see docs/config.md)"
            )
        return hmac.digest(self._hash_key, data.encode(), "sha256").hex()

    def protect(self, raw: object) -> Caller | None:
        number = normalize(raw)
        if number is None:
            return None
        encrypted = self._fernet.encrypt(number.encode()).decode() if self._fernet else None
        return Caller(hash=self.keyed_hash(number), masked=mask(number), encrypted=encrypted)

    def reveal(self, token: str) -> str:
        """The number behind an encrypted caller (for a role allowed to see it; none yet)."""
        if self._fernet is None:
            raise ValueError("no encryption key configured")
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("the caller was encrypted with another key") from None
