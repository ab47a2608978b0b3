"""``noc alert test RECEIVER`` and ``noc alert receivers``: check a channel before relying on it."""

from __future__ import annotations

import asyncio
import sys

import click


@click.group()
def alert() -> None:
    """告警通道 / alert channels: list receivers (masked), send a test message."""


@alert.command("receivers")
@click.option("--config", "config_path", metavar="FILE", help="inventory YAML")
def receivers_cmd(config_path: str | None) -> None:
    """Receivers and their channel URLs, secrets masked."""
    from alerting.notify import Notifier
    from noc.cli import _load_or_exit

    config = _load_or_exit(config_path)
    notifier = Notifier(config.alerting.receiver_urls())
    for receiver in config.alerting.receivers:
        click.echo(f"{receiver.name} ({receiver.locale}):")
        for url in notifier.masked_urls(receiver.name):
            click.echo(f"  {url}")


@alert.command("test")
@click.argument("receiver")
@click.option("--config", "config_path", metavar="FILE", help="inventory YAML")
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default=None)
def test_cmd(receiver: str, config_path: str | None, lang: str | None) -> None:
    """Send a test message to every channel of RECEIVER; exit 0 when delivered."""
    from alerting.notify import Notifier, send_test
    from noc.cli import _load_or_exit

    config = _load_or_exit(config_path)
    if receiver not in config.alerting.receiver_names():
        click.echo(
            f"未知接收人 unknown receiver {receiver!r}; known: {', '.join(sorted(config.alerting.receiver_names()))}",
            err=True,
        )
        sys.exit(2)
    notifier = Notifier(config.alerting.receiver_urls())
    locale = lang or config.alerting.receiver(receiver).locale
    result = asyncio.run(send_test(notifier, receiver, locale))
    if result.ok:
        click.echo(f"已发送 sent to {receiver} in {result.duration_seconds * 1000:.0f} ms")
        return
    click.echo(f"发送失败 failed: {result.error}", err=True)
    sys.exit(1)
