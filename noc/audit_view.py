"""How the audit log is shown outside the store (the console's 审计 page, ``GET /api/v1/audit``
and its CSV/JSON export): the rows with phone numbers and secrets masked.

An audit row is written with what the act saw, and a refused ingest's reason may quote a caller
number (``caller '13800138000' …``), a failed login's target is whatever was typed as the
user name, and a config secret could appear in a reason. What leaves the store through the web
is masked:

- phone numbers in any text (mobile ``138****8000``, landline ``0898-****1234``, local
  ``****1234``, international ``+44****1234``: the one mask of :mod:`noc.ingest.privacy`);
- API tokens (``noc_`` + 20 or more characters; a listed prefix ``noc_AbCd1234`` stays);
- the values of fields named like a password or secret in ``before``/``after``;
- every secret value of the running config (SNMP communities, channel URLs …).

A masked row no longer hashes to its ``hash``, so each row says ``masked: true`` and the
verification of a copy skips those; ``noc audit verify`` checks the store itself, and
``noc audit export`` (which needs the database, see docs/security.md) writes rows unmasked as a
backup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from noc.core.secrets import MASK, mask_secrets
from noc.identity.tokens import PREFIX_LENGTH, TOKEN_PREFIX
from noc.ingest.fields import Invalid
from noc.ingest.privacy import mask as mask_number
from noc.ingest.privacy import normalize

TEXT_FIELDS: tuple[str, ...] = ("target", "reason", "before", "after")
"""The fields of a row that carry free text (the others are names, codes and hashes)."""

_PHONE = re.compile(
    r"(?<![A-Za-z0-9_.:+/-])"
    r"(?:\+86[ -]?|0086[ -]?)?"
    r"(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8}|\+\d{9,15})"
    r"(?![A-Za-z0-9_.:/-])"
)
_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{20,}")
_SECRET_KEY = re.compile(r"password|secret|passphrase|community|auth_key|priv_key", re.I)


def _phone(match: re.Match[str]) -> str:
    try:
        number = normalize(match.group(0))
    except Invalid:
        return match.group(0)
    return mask_number(number) if number else match.group(0)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with config secrets, API tokens and phone numbers masked."""
    text = mask_secrets(text, secrets)
    text = _TOKEN.sub(lambda m: m.group(0)[:PREFIX_LENGTH] + "…" + MASK, text)
    return _PHONE.sub(_phone, text)


def _mask_value(value: Any, secrets: Iterable[str]) -> Any:
    if isinstance(value, str):
        return mask_text(value, secrets)
    if isinstance(value, dict):
        return {
            k: MASK
            if _SECRET_KEY.search(str(k)) and value[k] not in (None, "")
            else _mask_value(value[k], secrets)
            for k in value
        }
    if isinstance(value, list):
        return [_mask_value(v, secrets) for v in value]
    return value


def masked_row(row: dict[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """An exported row (:func:`noc.store.audit_log.audit_json`) masked, with ``masked``
    saying whether anything was changed."""
    secrets = tuple(secrets)
    out = dict(row)
    for name in TEXT_FIELDS:
        if out.get(name) is not None:
            out[name] = _mask_value(out[name], secrets)
    out["masked"] = any(out.get(n) != row.get(n) for n in TEXT_FIELDS)
    return out


def masked_rows(
    rows: Iterable[dict[str, Any]], secrets: Iterable[str] = ()
) -> list[dict[str, Any]]:
    secrets = tuple(secrets)
    return [masked_row(r, secrets) for r in rows]


__all__ = ["TEXT_FIELDS", "mask_text", "masked_row", "masked_rows"]
