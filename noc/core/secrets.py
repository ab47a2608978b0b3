"""Secrets never leave the process unmasked.

Config secrets are pydantic ``SecretStr`` (SNMP communities and v3 keys, later channel URLs and
tokens), which already print as ``**********``. Two more guards live here: ``public_spec`` for
anything stored or served, and a log scrubber that replaces any known secret value that slipped
into a log line (an exception text quoting a community string, say).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretStr

MASK = "**********"  # the same mask pydantic prints for a SecretStr; the only one we print


def mask_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret replaced by :data:`MASK`, longest first (so a secret that
    contains another is masked whole)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def public_spec(model: BaseModel) -> dict[str, Any]:
    """The model as JSON-able data with every secret masked and empty values left out."""
    return _mask(model.model_dump(mode="python", exclude_none=True))


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, BaseModel):
        return public_spec(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return value
    return value


def secret_values(model: Any) -> set[str]:
    """Every secret string inside a (nested) model, to be scrubbed from logs."""
    found: set[str] = set()
    _collect(model, found)
    return {s for s in found if len(s) >= 3}


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, SecretStr):
        found.add(value.get_secret_value())
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect(getattr(value, name), found)
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, found)
    elif isinstance(value, list | tuple | set):
        for v in value:
            _collect(v, found)


class SecretScrubber:
    """A structlog processor masking known secret values in every string of an event."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets: set[str] = set(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.update(s for s in secrets if s)

    def scrub(self, text: str) -> str:
        return mask_secrets(text, self.secrets)

    def __call__(self, _logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        if not self.secrets:
            return event
        return {k: self.scrub(v) if isinstance(v, str) else v for k, v in event.items()}
