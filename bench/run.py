"""Run the benchmarks and assemble bench/RESULTS.md from their fragments.

Each ``bench/bench_<name>.py`` writes ``bench/results/<name>.md``. This script runs them one
after the other (they compete for the same 2 cores, so never in parallel), then joins the
fragments into ``bench/RESULTS.md``: icmp, snmp, sip first, then the others by name.

A benchmark that fails is never dropped silently: its fragment is replaced by a failure
record (exit code, the tail of its stderr, and whatever result it wrote before failing),
so ``--assemble-only`` later shows the same failure.

    .venv/bin/python bench/run.py                  # everything (minutes; needs root)
    .venv/bin/python bench/run.py --only icmp,sip  # a subset; the others keep their fragments
    .venv/bin/python bench/run.py --only alert_latency  # the ~70-min lab benchmark (never by default)
    .venv/bin/python bench/run.py --assemble-only  # rebuild RESULTS.md from existing fragments

Exit code: 0 all benchmarks run succeeded, 1 some failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
FIRST = ("icmp", "snmp", "sip")
LONG = {
    "alert_latency": 5400.0,
    "calls": 3600.0,
}  # benchmarks run only with --only, and their own timeout (s)
STDERR_TAIL_LINES = 30
FAILED_MARK = "FAILED"


def discover(bench_dir: Path) -> dict[str, Path]:
    """``{name: script}`` for every bench_<name>.py, in report order."""
    found = {p.stem.removeprefix("bench_"): p for p in bench_dir.glob("bench_*.py")}
    return {name: found[name] for name in ordered(found)}


def ordered(names) -> list[str]:  # noqa: ANN001 - any iterable of names
    names = set(names)
    return [n for n in FIRST if n in names] + sorted(names - set(FIRST))


def run_one(name: str, script: Path, results: Path, timeout: float) -> tuple[int | str, str]:
    """Run one benchmark (stdout passes through, stderr is shown and its tail kept).
    Returns (exit code or "timeout", stderr tail)."""
    print(f"== bench {name}: {script.name}", flush=True)
    started = time.time()
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=script.parent.parent,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )  # its own group: a timeout kills its peers too
    reader = threading.Thread(target=_pump, args=(proc.stderr, tail), daemon=True)
    reader.start()
    try:
        code: int | str = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = "timeout"
    reader.join(5)
    if code == "timeout":
        tail.append(f"(killed after {timeout:g} s)")
    fragment = results / f"{name}.md"
    fresh = fragment.exists() and fragment.stat().st_mtime >= started
    stale = fragment.exists() and not fresh
    if code == 0 and not fresh:
        code, tail = "no result", collections.deque([f"exited 0 but wrote no {fragment.name}"])
    if code != 0:
        partial = fragment.read_text(encoding="utf-8") if fresh else None
        record = failure_record(name, script, code, list(tail), partial, stale)
        fragment.write_text(record, encoding="utf-8")
    print(
        f"== bench {name}: {'ok' if code == 0 else f'FAILED ({code})'} in {time.time() - started:.0f} s",
        flush=True,
    )
    return code, "\n".join(tail)


def _pump(stream, tail: collections.deque[str]) -> None:  # noqa: ANN001 - a text pipe
    """Echo the benchmark's stderr as it comes and keep its last lines."""
    for line in stream:
        sys.stderr.write(line)
        tail.append(line.rstrip("\n"))


def failure_record(
    name: str,
    script: Path,
    code: int | str,
    tail: list[str],
    partial: str | None,
    stale: bool = False,
) -> str:
    how = f"exit code **{code}**" if isinstance(code, int) else f"**{code}**"
    lines = [
        f"# {name} benchmark: {FAILED_MARK}",
        "",
        f"Date: {now_utc()}. `{script.parent.name}/{script.name}` ended with {how}."
        + (
            " Its previous result was discarded: it no longer describes this code." if stale else ""
        ),
        "",
        f"Last {len(tail)} line(s) of its stderr:",
        "",
        "```text",
        *(tail or ["(empty)"]),
        "```",
        "",
    ]
    if partial:
        lines += ["What it wrote before failing:", "", demote(partial).strip(), ""]
    return "\n".join(lines)


def demote(markdown: str) -> str:
    """Every heading one level down (the fragment's title becomes a section), code fences untouched."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,5} ", line):
            line = "#" + line
        out.append(line)
    return "\n".join(out)


def now_utc() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def assemble(bench_dir: Path, results: Path, output: Path) -> str:
    """Join every fragment (and a "not run" line for benchmarks without one) into ``output``."""
    fragments = {p.stem: p for p in results.glob("*.md")}
    names = ordered(set(fragments) | set(discover(bench_dir)))
    summary, sections = [], []
    for name in names:
        path = fragments.get(name)
        if path is None:
            summary.append(f"| {name} | not run | |")
            sections.append(f"## {name}\n\nNo result yet: run `bench/run.py --only {name}`.")
            continue
        text = path.read_text(encoding="utf-8")
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        status = (
            "**failed**"
            if FAILED_MARK in first
            else "ran, a goal **NOT met**"
            if "NOT met" in text
            else "ran"
        )
        written = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        summary.append(f"| {name} | {status} | {written:%Y-%m-%d %H:%M} UTC |")
        sections.append(demote(text).strip())
    doc = "\n".join(
        [
            "# Benchmark results — hotline NOC",
            "",
            f"Assembled: {now_utc()}. Machine: {machine()}.",
            "",
            "Each section is one benchmark's fragment (`bench/results/<name>.md`), written by "
            "`bench/bench_<name>.py` against the named peer tool in the same run; "
            "see `bench/README.md` for what each measures and its goals.",
            "",
            "| benchmark | outcome | fragment written |",
            "|---|---|---|",
            *summary,
            "",
            *(s + "\n" for s in sections),
        ]
    )
    output.write_text(doc, encoding="utf-8")
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="NAMES", help="comma-separated benchmarks, e.g. icmp,sip")
    parser.add_argument("--assemble-only", action="store_true", help="only rebuild RESULTS.md")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per benchmark (default 600)"
    )
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    bench_dir = args.bench_dir.resolve()
    results, output = bench_dir / "results", bench_dir / "RESULTS.md"
    results.mkdir(parents=True, exist_ok=True)
    available = discover(bench_dir)
    if args.assemble_only and args.only:
        parser.error("--only and --assemble-only exclude each other")
    # the alert-latency benchmark runs ~70 min (a 30-min soak): only when asked for by name
    chosen = [n for n in available if n not in LONG]
    if args.only:
        chosen = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in available]
        if unknown or not chosen:
            parser.error(
                f"unknown benchmark(s) {', '.join(unknown) or '(none given)'}; "
                f"known: {', '.join(available)}"
            )
    failed = []
    if not args.assemble_only:
        for name in ordered(chosen):
            code, _ = run_one(
                name, available[name], results, max(args.timeout, LONG.get(name, 0.0))
            )
            if code != 0:
                failed.append(f"{name} ({code})")
    assemble(bench_dir, results, output)
    print(f"wrote {output}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
