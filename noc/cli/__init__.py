"""The ``noc`` command: the group and the list of its subcommand groups, nothing else.

Each group lives in its own module and imports only :mod:`noc.cli.common` (shared options,
config and store loading, the error-to-exit-code decorator, exit codes 0/1/2). Every command
declares who may use it next to its definition (:mod:`noc.cli.access`); the lab's commands,
whose package may not import the CLI, are declared here.
"""

from __future__ import annotations

import click

from noc.cli import (
    alerts,
    audit,
    calls,
    config,
    db,
    demo,
    diag,
    incidents,
    kb,
    kpi,
    maintenance,
    probe,
    registers,
    run,
    sla,
    tickets,
    tokens,
    users,
)
from noc.cli.access import Access, annotate, declare_each
from noc.cli.common import STORE_EPILOG
from noc.lab import cli as lab


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=STORE_EPILOG)
@click.version_option(package_name="hotline-noc", prog_name="noc")
def main() -> None:
    """hotline NOC — 陵水12345热线分平台网络运行监控与SLA服务 / network operations and SLA service."""


COMMANDS: tuple[click.Command, ...] = (
    run.run,
    config.config,
    db.db,
    incidents.incident,
    maintenance.maintenance,
    alerts.alert,
    sla.sla,
    probe.probe,
    diag.diag,
    lab.lab,
    users.user,
    tokens.token,
    audit.audit,
    calls.calls,
    tickets.tickets,
    kb.kb,
    kpi.kpi,
    kpi.scorecard,
    registers.staff,
    registers.emergency,
    registers.report,
    demo.demo,
)

_LAB_ROOT = (
    "root only (network namespaces and daemons): the test lab, never production; no store data"
)
declare_each(
    lab.lab,
    {
        "up": Access("local", note=_LAB_ROOT),
        "down": Access("local", note=_LAB_ROOT),
        "fault": Access("local", note=_LAB_ROOT),
        "heal": Access("local", note=_LAB_ROOT),
        "status": Access("local", note="reads the lab's state directory; no store data"),
    },
)

for _command in COMMANDS:
    main.add_command(_command)
annotate(main)


if __name__ == "__main__":  # pragma: no cover
    main()
