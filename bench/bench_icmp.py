"""Benchmark: our one-socket ICMP sweep vs fping, 1,000 targets, 0 % and 10 % loss.

Both tools run in the same throw-away network namespace (``nocicmp-bench-<pid>``) against
1,000 loopback addresses (127.0.x.y are all local there), with the same send spacing
(fping ``-i``), per-packet timeout (``-t``) and one packet per target (``-c1``). Loss is
made by an nft rule dropping 10 % of echo replies at random (no netem in this kernel).
Wall time: fping as a process (``ip netns exec`` + fping), ours as the ``sweep()`` call
in an already running Python (the service's situation: the pinger lives in the process).

Run as root: ``.venv/bin/python bench/bench_icmp.py``; writes bench/results/icmp.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from probes.icmp import IcmpParams, IcmpPinger, sweep  # noqa: E402

TARGETS = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(1000)]
TIMEOUT_MS = 500
REPEATS = 3
SCENARIOS = [  # (send spacing ms, loss %)
    (1.0, 0),
    (1.0, 10),
    (0.25, 0),
    (0.25, 10),
]
LOSS_RULESET = """
table inet nocicmp_bench {
  chain out {
    type filter hook output priority 0; policy accept;
    icmp type echo-reply numgen random mod 100 < %d drop
  }
}
"""
RESULTS = Path(__file__).resolve().parent / "results" / "icmp.md"
GOAL_RATIO, GOAL_SWEEP_SECONDS = 1.5, 2.0


def sh(*cmd: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True)


def set_loss(ns: str, percent: int) -> None:
    subprocess.run(
        ["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "nocicmp_bench"],
        capture_output=True,
    )
    if percent:
        sh("ip", "netns", "exec", ns, "nft", "-f", "-", stdin=LOSS_RULESET % percent)


def run_fping(ns: str, target_file: str, spacing_ms: float) -> tuple[float, int]:
    cmd = [
        "ip",
        "netns",
        "exec",
        ns,
        "fping",
        "-c1",
        f"-i{spacing_ms:g}",
        f"-t{TIMEOUT_MS}",
        "-q",
        "-f",
        target_file,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    received = len(re.findall(r"xmt/rcv/%loss = 1/1/", proc.stderr))
    answered_lines = len(re.findall(r"xmt/rcv/%loss", proc.stderr))
    if answered_lines != len(TARGETS):
        raise RuntimeError(f"fping reported {answered_lines} targets: {proc.stderr[-300:]}")
    return wall, received


async def run_ours(pinger: IcmpPinger) -> tuple[float, int]:
    params = IcmpParams(count=1, timeout=TIMEOUT_MS / 1000)
    start = time.perf_counter()
    results = await sweep(TARGETS, params, pinger=pinger)
    wall = time.perf_counter() - start
    if len(results) != len(TARGETS):
        raise RuntimeError(f"sweep returned {len(results)} results")
    return wall, sum(r.ok for r in results.values())


async def bench(ns: str, target_file: str) -> list[dict]:
    rows = []
    for spacing_ms, loss in SCENARIOS:
        set_loss(ns, loss)
        pinger = IcmpPinger(netns=ns, send_spacing=spacing_ms / 1000)
        await run_ours(pinger)  # warm-up: opens the socket once, as the service does at start
        ours, theirs = [], []
        for _ in range(REPEATS):
            ours.append(await run_ours(pinger))
            theirs.append(run_fping(ns, target_file, spacing_ms))
        sockets = pinger.socket_count
        pinger.close()
        rows.append(
            {
                "spacing_ms": spacing_ms,
                "loss": loss,
                "ours": statistics.median(w for w, _ in ours),
                "fping": statistics.median(w for w, _ in theirs),
                "ours_rx": statistics.mean(r for _, r in ours),
                "fping_rx": statistics.mean(r for _, r in theirs),
                "sockets": sockets,
            }
        )
        print(rows[-1], flush=True)
    return rows


def fping_version() -> str:
    proc = subprocess.run(["fping", "-v"], capture_output=True, text=True)
    return (proc.stdout + proc.stderr).strip().splitlines()[0]


def report(rows: list[dict]) -> str:
    lines = [
        "# ICMP sweep benchmark: one-socket sweep vs fping",
        "",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores, "
        f"Linux {platform.release()}, Python {platform.python_version()}, {fping_version()}.",
        "",
        f"1,000 targets (127.0.x.y inside a throw-away namespace), one echo request each, "
        f"per-packet timeout {TIMEOUT_MS} ms, same send spacing for both tools (fping `-i`). "
        f"Loss: nft `numgen random mod 100 < N drop` on echo replies. Median of {REPEATS} runs; "
        "ours is the `sweep()` call in a running process (socket already open), fping is the "
        "whole `ip netns exec fping -c1 -q -f targets` process.",
        "",
        "| spacing | loss | ours (s) | fping (s) | ratio ours/fping | replies ours | replies fping | our sockets |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['spacing_ms']:g} ms | {r['loss']} % | {r['ours']:.3f} | {r['fping']:.3f} | "
            f"{r['ours'] / r['fping']:.2f} | {r['ours_rx']:.0f} | {r['fping_rx']:.0f} | {r['sockets']} |"
        )
    worst_ratio = max(r["ours"] / r["fping"] for r in rows)
    worst_sweep = max(r["ours"] for r in rows)
    lines += [
        "",
        f"Goals: ours ≤ {GOAL_RATIO}× fping — worst ratio {worst_ratio:.2f} "
        f"({'met' if worst_ratio <= GOAL_RATIO else 'NOT met'}); a whole sweep ≤ "
        f"{GOAL_SWEEP_SECONDS:g} s — slowest {worst_sweep:.3f} s "
        f"({'met' if worst_sweep <= GOAL_SWEEP_SECONDS else 'NOT met'}).",
        "",
        "Both tools are bound by the same schedule: 1,000 × spacing to send, then the timeout "
        "for the last lost packet; with loss the sweep ends one timeout after the last send "
        "at worst, because lost packets time out concurrently, not one after another.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    if os.geteuid() != 0:
        print("bench_icmp needs root (namespaces, raw sockets, nft)", file=sys.stderr)
        return 1
    for tool in ("ip", "nft", "fping"):
        if not shutil.which(tool):
            print(f"{tool} is not installed", file=sys.stderr)
            return 1
    ns = f"nocicmp-bench-{os.getpid()}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        with tempfile.NamedTemporaryFile("w", prefix="nocicmp-targets-", suffix=".txt") as fh:
            fh.write("\n".join(TARGETS) + "\n")
            fh.flush()
            rows = asyncio.run(bench(ns, fh.name))
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    text = report(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
