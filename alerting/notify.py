"""Delivery through Apprise: one ``Apprise`` object, every channel URL tagged with its receiver.

A channel URL carries its secret (a WeCom/DingTalk/Feishu token, an SMTP password), so nothing
here ever prints a URL as configured: pages and logs get Apprise's privacy form, errors are
scrubbed of every secret fragment, and the same fragments are masked in Apprise's own log lines.
A delivery outcome is a :class:`DeliveryResult` value, never an exception.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import apprise

from noc.core.errors import InputError
from noc.core.secrets import MASK, SecretScrubber

APP_ID = "hotline-noc"
_TOKEN_SPLIT = re.compile(r"[/:@?&=#+,;.]+")
_QUERY_KEY = re.compile(r"([?&])[^=&]*=")


class NotifierConfigError(InputError):
    """A receiver's channel URL that Apprise cannot use (the message names it masked)."""


@dataclass(frozen=True)
class DeliveryResult:
    """What one send to one receiver came to; ``config_error`` means retrying cannot help."""

    ok: bool
    error: str | None
    duration_seconds: float
    config_error: bool = False


def _plain(url: Any) -> str:
    return url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)


def _unparsable_mask(url: str) -> str:
    """An URL Apprise rejected is shown by its scheme only: its host may be the token."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"{scheme}://{MASK}"


def _secret_fragments(raw: str, masked: str) -> set[str]:
    """The parts of a URL that its privacy form hides (tokens, passwords, keys)."""
    shown = set(_TOKEN_SPLIT.split(masked))
    values_only = _QUERY_KEY.sub(r"\1", raw)  # a parameter's name ("secret=") is no secret
    return {t for t in _TOKEN_SPLIT.split(values_only) if len(t) >= 4 and t not in shown}


def _fix_dingtalk_signature(plugin: Any) -> None:
    """Apprise 2.3 URL-quotes DingTalk's ``sign`` and then hands it to requests as a query
    parameter, which quotes it again: DingTalk answers "sign not match" (310000). Give requests
    the plain base64 so the wire carries it quoted exactly once, as DingTalk documents."""
    if type(plugin).__name__ != "NotifyDingTalk" or not hasattr(plugin, "get_signature"):
        return
    original = plugin.get_signature

    def get_signature() -> tuple[str, str]:
        timestamp, signature = original()
        return timestamp, unquote(signature)

    plugin.get_signature = get_signature


class _ScrubFilter(logging.Filter):
    """Masks channel secrets in Apprise's own log records (it may log a full webhook URL)."""

    def __init__(self, scrubber: SecretScrubber):
        super().__init__()
        self.scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrubber.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class Notifier:
    """Sends a title and body to every channel of a receiver, in one Apprise call."""

    def __init__(self, receivers: Mapping[str, Sequence[Any]], *, timeout: float = 30.0):
        self.timeout = timeout
        self.scrubber = SecretScrubber()
        self._masked: dict[str, list[str]] = {}
        asset = apprise.AppriseAsset(app_id=APP_ID, app_desc="Hotline NOC alerts")
        self._apprise = apprise.Apprise(asset=asset)
        for receiver, urls in receivers.items():
            self._masked[receiver] = []
            for url in urls:
                self._add(receiver, _plain(url))
        self._log_filter = _ScrubFilter(self.scrubber)
        logging.getLogger("apprise").addFilter(self._log_filter)
        try:  # the service's structlog scrubber masks the same fragments in our own log lines
            from noc.core.logs import scrubber as service_scrubber

            service_scrubber.add(self.scrubber.secrets)
        except ImportError:  # pragma: no cover - noc.core.logs is part of the service
            pass

    def _add(self, receiver: str, url: str) -> None:
        plugin = apprise.Apprise.instantiate(url, asset=self._apprise.asset, tag=receiver)
        if plugin is None:
            raise NotifierConfigError(
                f"receiver {receiver!r}: Apprise cannot use channel URL {_unparsable_mask(url)}"
                " (unknown scheme or missing token)"
            )
        _fix_dingtalk_signature(plugin)
        masked = plugin.url(privacy=True)
        self.scrubber.add(_secret_fragments(url, masked))
        self.scrubber.add(_secret_fragments(plugin.url(privacy=False), masked))
        self._apprise.add(plugin)
        self._masked[receiver].append(masked)

    @property
    def receivers(self) -> list[str]:
        return list(self._masked)

    def masked_urls(self, receiver: str) -> list[str]:
        """The receiver's channel URLs with their secrets hidden, for pages and logs."""
        return list(self._masked.get(receiver, []))

    def close(self) -> None:
        logging.getLogger("apprise").removeFilter(self._log_filter)

    async def send(self, receiver: str, title: str, body: str) -> DeliveryResult:
        started = time.perf_counter()
        try:
            result = await self._apprise.async_notify(
                body=body, title=title, tag=receiver, timeout=self.timeout
            )
        except Exception as exc:  # a plugin bug or a network error is an outcome, not a crash
            return DeliveryResult(
                False,
                self.scrubber.scrub(f"{type(exc).__name__}: {exc}"),
                time.perf_counter() - started,
            )
        return self._outcome(receiver, result, time.perf_counter() - started)

    def _outcome(self, receiver: str, result: Any, duration: float) -> DeliveryResult:
        status = getattr(result, "status", None)
        name = getattr(status, "name", None)
        if result is None or name == "NOMATCH":
            return DeliveryResult(
                False, f"no service matched receiver {receiver}", duration, config_error=True
            )
        if status is None:  # an older Apprise returns a plain bool
            return DeliveryResult(bool(result), None if result else "delivery failed", duration)
        if name == "SUCCESS":
            return DeliveryResult(True, None, duration)
        detail = self.scrubber.scrub(self._describe_failures(result))
        if name == "PARTIAL":
            # At least one channel reached the NOC; resending would duplicate it there.
            return DeliveryResult(True, f"partial: {detail}", duration)
        return DeliveryResult(False, f"{name.lower()}: {detail}", duration)

    def _describe_failures(self, result: Any) -> str:
        parts = []
        for service in getattr(result, "results", ()):
            if service:
                continue
            last = ""
            for entry in service.logs():
                if entry.level in ("WARNING", "ERROR", "CRITICAL"):
                    last = entry.message
            parts.append(
                f"{service.name} {service.url} {service.status.name}"
                + (f" ({last})" if last else "")
            )
        return "; ".join(parts) or "delivery failed"


TEST_MESSAGES = {
    "zh-CN": (
        "【测试】热线网络监控告警通道测试",
        "这是一条测试消息：告警通道 {receiver} 工作正常，无需处理。",
    ),
    "en": (
        "[TEST] Hotline NOC alert channel test",
        "This is a test message: alert channel {receiver} works; no action needed.",
    ),
}


async def send_test(notifier: Notifier, receiver: str, locale: str = "zh-CN") -> DeliveryResult:
    """``noc alert test RECEIVER``: a harmless message through every channel of a receiver."""
    title, body = (
        TEST_MESSAGES.get(locale) or TEST_MESSAGES["en" if locale.startswith("en") else "zh-CN"]
    )
    return await notifier.send(receiver, title, body.format(receiver=receiver))
