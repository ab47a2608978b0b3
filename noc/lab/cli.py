"""`noc lab …`: build, inspect, break and heal the network lab (root only, except `status`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from noc.lab.control import Lab
from noc.lab.faults import KINDS, FaultError
from noc.lab.netns import LabError
from noc.lab.state import DEFAULT_STATE_DIR
from probes.safety import ProbeSafetyError

_ERRORS = (LabError, FaultError, ProbeSafetyError, OSError, RuntimeError, ValueError)

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    envvar="NOC_LAB_STATE_DIR",
    help="实验网状态目录 / where the lab keeps its state (pids, faults, SNMPv3 keys).",
)


def _need_root() -> None:
    if os.geteuid() != 0:
        raise click.ClickException("需要 root 权限 / the lab needs root (network namespaces)")


def _run(action):  # noqa: ANN001, ANN202 - tiny adapter
    try:
        return action()
    except _ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("lab")
def lab() -> None:
    """网络实验环境 / the Lingshui site emulated in network namespaces (docs/lab.md)."""


@lab.command()
@state_dir_option
@click.option(
    "--inventory-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="写出可供服务使用的清单 / write an inventory YAML the service can run against.",
)
def up(state_dir: Path, inventory_out: Path | None) -> None:
    """搭建实验网 / build the lab (tears down leftovers first)."""
    _need_root()
    inventory_out = inventory_out or state_dir / "inventory.yaml"
    _run(lambda: Lab(state_dir).up(inventory_out))
    click.echo(f"实验网已启动 / lab is up; inventory: {inventory_out}")


@lab.command()
@state_dir_option
def down(state_dir: Path) -> None:
    """拆除实验网（保留黑洞路由） / remove the lab, keeping the 198.18.0.0/15 blackhole."""
    _need_root()
    _run(lambda: Lab(state_dir).down())
    click.echo("实验网已拆除 / lab is down")


@lab.command()
@state_dir_option
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def status(state_dir: Path, as_json: bool) -> None:
    """实验网状态 / namespaces, links, daemons and active faults."""
    report = _run(lambda: Lab(state_dir).status())
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"lab: {'up 运行中' if report['up'] else 'down 未运行'}   "
        f"blackhole 198.18.0.0/15: {'present' if report['blackhole'] else 'MISSING'}"
    )
    click.echo(
        "namespaces: "
        + "  ".join(f"{ns}{'' if ok else '(absent)'}" for ns, ok in report["namespaces"].items())
    )
    for name, states in report["links"].items():
        shaping = f" tbf={states['shaping']}" if "shaping" in states else ""
        click.echo(f"  link {name:<12} ce={states['ce']:<8} far={states['far']:<8}{shaping}")
    for name, running in report["daemons"].items():
        click.echo(f"  daemon {name:<12} {'running' if running else 'STOPPED'}")
    click.echo("faults: " + (", ".join(report["faults"]) or "none 无"))


@lab.command(context_settings={"ignore_unknown_options": True})
@state_dir_option
@click.argument("kind", type=click.Choice([*KINDS, "link-up", "snmpd-start"]))
@click.argument("args", nargs=-1)
def fault(state_dir: Path, kind: str, args: tuple[str, ...]) -> None:
    """注入故障 / inject a fault: link-down LINK | link-up LINK | loss LINK PERCENT |
    icmp-silence NS|ADDRESS | sip-silence ADDRESS | sip-503 ADDRESS | snmpd-stop | snmpd-start."""
    _need_root()
    done = _run(lambda: Lab(state_dir).fault(kind, list(args)))
    verb = "已恢复 / healed" if kind in ("link-up", "snmpd-start") else "已注入 / injected"
    click.echo(f"{verb}: {done.describe()}")


@lab.command()
@state_dir_option
@click.argument("which", nargs=-1)
def heal(state_dir: Path, which: tuple[str, ...]) -> None:
    """恢复故障 / heal all faults, or one ("loss mstp-voice", "sip-503 198.18.10.2")."""
    _need_root()
    healed = _run(lambda: Lab(state_dir).heal(" ".join(which) or None))
    click.echo("已恢复 / healed: " + (", ".join(f.describe() for f in healed) or "nothing 无"))
