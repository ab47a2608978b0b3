"""Keep probes of the RFC 2544 test range (198.18.0.0/15) on this machine.

The shipped Lingshui inventory uses lab addresses. If the lab is down and the range had
no route of its own, probes would follow the default route out to the carrier, so a
blackhole route for the whole range is the floor: the lab's more specific routes
(198.18.10.0/24 on noclab0, 198.18.0.0/16 via the CE) win while it is up, and when it is
down every probe fails at once with "network unreachable" instead of leaving the host.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from collections.abc import Iterable

from noc.core.errors import InputError

TEST_RANGE = ipaddress.ip_network("198.18.0.0/15")


def _ip_binary() -> str:
    """`ip` may live in /usr/sbin, which a non-root PATH often lacks."""
    return shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin") or "ip"


class ProbeSafetyError(InputError):
    """The test range would be probed without the blackhole that keeps it local.

    An :class:`InputError` (400, exit 2): the addresses asked for cannot be probed from here
    as things stand, as the probe CLI has always answered (exit 2); the operator fixes it by
    probing another address or letting root install the blackhole."""

    label = "拒绝探测 / probe refused"


def addresses_in_test_range(addresses: Iterable[str]) -> bool:
    """True if any of `addresses` (IPs; host names are ignored) lies in 198.18.0.0/15."""
    for address in addresses:
        try:
            ip = ipaddress.ip_address(str(address).strip())
        except ValueError:
            continue
        if ip.version == 4 and ip in TEST_RANGE:
            return True
    return False


def blackhole_present() -> bool:
    """Is `blackhole 198.18.0.0/15` in the root namespace's main table? (no root needed)"""
    try:
        proc = subprocess.run(
            [_ip_binary(), "-j", "route", "show", "table", "main", "exact", str(TEST_RANGE)],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except FileNotFoundError as exc:
        raise ProbeSafetyError("缺少 ip 命令 (iproute2) / missing the ip command") from exc
    if proc.returncode != 0 or not proc.stdout.strip():
        return False
    return any(entry.get("type") == "blackhole" for entry in json.loads(proc.stdout))


def ensure_blackhole() -> None:
    """Install the blackhole when root; when not root and it is missing, raise ProbeSafetyError."""
    if blackhole_present():
        return
    if os.geteuid() != 0:
        raise ProbeSafetyError(
            f"测试网段 {TEST_RANGE} 缺少黑洞路由，拒绝探测该网段；请以 root 执行 "
            f"`ip route replace blackhole {TEST_RANGE}` 或 `noc lab up`。 / "
            f"The blackhole route for {TEST_RANGE} is missing, so probes of that range are "
            f"refused; as root run `ip route replace blackhole {TEST_RANGE}` (or `noc lab up`)."
        )
    proc = subprocess.run(
        [_ip_binary(), "route", "replace", "blackhole", str(TEST_RANGE)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    if proc.returncode != 0:
        raise ProbeSafetyError(
            f"无法安装黑洞路由 / could not install blackhole {TEST_RANGE}: {proc.stderr.strip()}"
        )


def check_probe_safety(addresses: Iterable[str]) -> bool:
    """Called by the service before probing: returns True if the test range is involved.

    Raises ProbeSafetyError when some address is in the test range and the blackhole is
    missing and cannot be installed; addresses outside the range need nothing.
    """
    if not addresses_in_test_range(addresses):
        return False
    ensure_blackhole()
    return True
