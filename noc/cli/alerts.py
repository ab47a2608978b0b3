"""``noc alert test RECEIVER`` and ``noc alert receivers``: check a channel before relying on it.

``test`` sends a message to people, so it needs ``alert.test`` (a lead) and acts as the NOC
account bound to the OS account running it (root acts as admin); the order is audited as
``alert.test`` before the message leaves (:meth:`OperatorActs.order_test_message`, as the
console's), and a refused or unknown receiver leaves a ``refused`` row. ``receivers`` reads the
config only (secrets masked).
"""

from __future__ import annotations

import sys

import click

from noc.cli.access import local, writes
from noc.cli.common import (
    EXIT_REFUSED,
    config_option,
    exit_on_error,
    lang_option,
    load_config_or_exit,
    store_options,
)
from noc.cli.identity_common import Ctx, run
from noc.core.errors import InputError, NocError


@click.group()
def alert() -> None:
    """告警通道 / alert channels: list receivers (masked), send a test message."""


@alert.command("receivers")
@local(
    "reads the config file only (channel secrets masked), no store data: read access to the file"
)
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
@writes("alert.test", "alert.test")
@click.argument("receiver")
@store_options
@lang_option()
def test_cmd(receiver: str, config_path: str | None, db_url: str | None, lang: str | None) -> None:
    """Send a test message to every channel of RECEIVER; exit 0 when delivered."""
    from alerting.notify import Notifier, send_test
    from noc.identity.actor import require
    from noc.store.operator_acts import OperatorActs

    async def work(ctx: Ctx):
        config = ctx.config
        actor = await ctx.actor()
        acts = OperatorActs(ctx.store, config.site.name, ctx.accounts.policy)
        try:
            require(actor, "alert.test", acts.table)
            if receiver not in config.alerting.receiver_names():
                raise InputError(
                    f"未知接收人 unknown receiver {receiver!r}; "
                    f"known: {', '.join(sorted(config.alerting.receiver_names()))}"
                )
        except NocError as exc:  # refused before the order: recorded all the same
            await acts.refused(actor, "alert.test", f"receiver:{receiver}", exc)
            raise
        await acts.order_test_message(actor, receiver)
        notifier = Notifier(config.alerting.receiver_urls())
        locale = lang or config.alerting.receiver(receiver).locale
        return await send_test(notifier, receiver, locale)

    result = run(config_path, db_url, work)
    if result.ok:
        click.echo(f"已发送 sent to {receiver} in {result.duration_seconds * 1000:.0f} ms")
        return
    click.echo(f"发送失败 failed: {result.error}", err=True)
    sys.exit(EXIT_REFUSED)
