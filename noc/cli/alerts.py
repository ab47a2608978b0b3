"""``noc alert test RECEIVER`` and ``noc alert receivers``: check a channel before relying on it."""

from __future__ import annotations

import asyncio
import sys

import click

from noc.cli.common import (
    EXIT_REFUSED,
    config_option,
    exit_on_error,
    lang_option,
    load_config_or_exit,
)
from noc.core.errors import InputError


@click.group()
def alert() -> None:
    """告警通道 / alert channels: list receivers (masked), send a test message."""


@alert.command("receivers")
@config_option
@exit_on_error
def receivers_cmd(config_path: str | None) -> None:
    """Receivers and their channel URLs, secrets masked."""
    from alerting.notify import Notifier

    config = load_config_or_exit(config_path)
    notifier = Notifier(config.alerting.receiver_urls())
    for receiver in config.alerting.receivers:
        click.echo(f"{receiver.name} ({receiver.locale}):")
        for url in notifier.masked_urls(receiver.name):
            click.echo(f"  {url}")


@alert.command("test")
@click.argument("receiver")
@config_option
@lang_option()
@exit_on_error
def test_cmd(receiver: str, config_path: str | None, lang: str | None) -> None:
    """Send a test message to every channel of RECEIVER; exit 0 when delivered."""
    from alerting.notify import Notifier, send_test

    config = load_config_or_exit(config_path)
    if receiver not in config.alerting.receiver_names():
        raise InputError(
            f"未知接收人 unknown receiver {receiver!r}; "
            f"known: {', '.join(sorted(config.alerting.receiver_names()))}"
        )
    notifier = Notifier(config.alerting.receiver_urls())
    locale = lang or config.alerting.receiver(receiver).locale
    result = asyncio.run(send_test(notifier, receiver, locale))
    if result.ok:
        click.echo(f"已发送 sent to {receiver} in {result.duration_seconds * 1000:.0f} ms")
        return
    click.echo(f"发送失败 failed: {result.error}", err=True)
    sys.exit(EXIT_REFUSED)
