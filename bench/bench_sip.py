"""Benchmark: SIP OPTIONS to 19 and to 1,000 endpoints — our probe vs sipsak.

Peer: one real Kamailio listening (UDP) on 1,000 loopback addresses 127.0.1.1 … 127.0.4.250,
port 15070 (one receiver process per address). Ours: every endpoint probed concurrently
through the one shared UDP socket of ``probes.sip.SipClient``. sipsak: ``sipsak -s URI`` one
process per endpoint, one by one, then 8 at a time with ``xargs -P 8``.
Goal: 1,000 endpoints in <= 2 s. Writes bench/results/sip.md.

    .venv/bin/python bench/bench_sip.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from noc.lab.kamailio import KamailioPeer  # noqa: E402
from probes.base import ResultCode, Target  # noqa: E402
from probes.sip import SipClient, SipParams  # noqa: E402

PORT = 15070
ADDRESSES = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(1000)]
RUNS = 5
XARGS_P = 8
GOAL_SECONDS = 2.0


def uri(address: str) -> str:
    return f"sip:phone@{address}:{PORT}"


async def ours(addresses: list[str]) -> tuple[list[float], int]:
    """Wall time of each run (first run is cold: socket + route lookups), and failures."""
    client = SipClient()
    params = SipParams(timeout="2s", alive_codes=["2xx"])
    times, failures = [], 0
    for _ in range(RUNS):
        targets = [Target(a, PORT, extra={"uri": uri(a)}) for a in addresses]
        t0 = time.perf_counter()
        results = await asyncio.gather(*(client.probe(t, params) for t in targets))
        times.append(time.perf_counter() - t0)
        failures += sum(r.result is not ResultCode.OK for r in results)
        assert client.udp_socket_count == 1
    await client.close()
    return times, failures


def sipsak_sequential(addresses: list[str]) -> tuple[float, int]:
    sipsak = shutil.which("sipsak")
    assert sipsak, "sipsak missing: apt-get install sipsak"
    failures = 0
    t0 = time.perf_counter()
    for address in addresses:
        proc = subprocess.run([sipsak, "-s", uri(address)], capture_output=True)
        failures += proc.returncode != 0
    return time.perf_counter() - t0, failures


def sipsak_parallel(addresses: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["xargs", "-P", str(XARGS_P), "-n", "1", "sipsak", "-s"],
        input="\n".join(uri(a) for a in addresses).encode(),
        capture_output=True,
    )
    # xargs exits 123 if any invocation failed; count failures is not exposed, so 0 or "some"
    return time.perf_counter() - t0, 0 if proc.returncode == 0 else -1


def row(
    n: int, ours_times: list[float], ours_fail: int, seq: tuple[float, int], par: tuple[float, int]
) -> str:
    warm = statistics.median(ours_times[1:])
    cold = ours_times[0]
    fails = f"{ours_fail}/{n * RUNS}"
    par_fail = "0" if par[1] == 0 else "some"
    return (
        f"| {n} | {cold * 1000:.1f} ms | {warm * 1000:.1f} ms | {fails} | {seq[0] * 1000:.0f} ms | {seq[1]} "
        f"| {par[0] * 1000:.0f} ms | {par_fail} | {seq[0] / warm:.0f}x | {par[0] / warm:.0f}x |"
    )


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-sip-"))
    peer = KamailioPeer(ADDRESSES, PORT, workdir, transports=("udp",), children=1, shm_mb=64)
    print(f"starting Kamailio on {len(ADDRESSES)} addresses …", flush=True)
    peer.start(timeout=60)
    try:
        rows, goal_met = [], None
        for n in (19, 1000):
            addresses = ADDRESSES[:n]
            print(f"{n} endpoints: ours …", flush=True)
            ours_times, ours_fail = asyncio.run(ours(addresses))
            print(f"{n} endpoints: sipsak sequential …", flush=True)
            seq = sipsak_sequential(addresses)
            print(f"{n} endpoints: sipsak xargs -P {XARGS_P} …", flush=True)
            par = sipsak_parallel(addresses)
            rows.append(row(n, ours_times, ours_fail, seq, par))
            print(rows[-1], flush=True)
            if n == 1000:
                goal_met = max(ours_times) <= GOAL_SECONDS and ours_fail == 0
    finally:
        peer.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    cpu = platform.processor() or platform.machine()
    text = "\n".join(
        [
            "# SIP OPTIONS probe benchmark",
            "",
            f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores ({cpu}), "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"Kamailio {kamailio_version()}, sipsak {sipsak_version()}.",
            "",
            f"Peer: one Kamailio answering OPTIONS with 200 on {len(ADDRESSES)} loopback addresses "
            f"(127.0.1.1-127.0.4.250, UDP port {PORT}, one receiver process per address).",
            "Ours: `probes.sip.SipClient`, all endpoints concurrently over ONE shared UDP socket, "
            f"timeout 2 s, {RUNS} runs (cold = first run incl. socket set-up; warm = median of the rest).",
            f"sipsak: `sipsak -s sip:phone@ADDR:{PORT}` one process per endpoint, one by one, "
            f"and 8 at a time with `xargs -P {XARGS_P}`. Ratio = sipsak time / our warm time.",
            "",
            "| endpoints | ours cold | ours warm | ours failures | sipsak 1-by-1 | sipsak failures "
            f"| sipsak xargs -P {XARGS_P} | xargs failures | ratio 1-by-1 | ratio xargs |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Goal: 1,000 endpoints in <= {GOAL_SECONDS:g} s, every run, no failure: "
            f"**{'met' if goal_met else 'NOT met'}**.",
            "",
        ]
    )
    out = ROOT / "bench" / "results" / "sip.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0 if goal_met else 1


def kamailio_version() -> str:
    out = subprocess.run(["kamailio", "-v"], capture_output=True, text=True).stdout
    return out.split()[2] if out.startswith("version:") else "?"


def sipsak_version() -> str:
    out = subprocess.run(["sipsak", "--version"], capture_output=True, text=True)
    words = (out.stdout or out.stderr).split()
    return words[1] if len(words) > 1 else "?"


if __name__ == "__main__":
    sys.exit(main())
