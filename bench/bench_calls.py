"""Calls and tickets benchmark (issue 14): ingest through HTTP, search and queries on a generated
history, XLSX import, store size; SQLite and PostgreSQL in the same run.

For each backend, on a fresh store:

1. **ingest, sustained**: the real ``noc run``; ``--clients`` aiohttp clients POST batches of
   ``--batch`` calls to ``/api/v1/calls`` back to back for ``--seconds``; acknowledged records/s,
   and the service's CPU (utime + stime from /proc) over the same time;
2. **ingest, latency**: single-record POSTs at a fixed ``--rate`` per second (open loop: each
   request's latency counts from when it was due, so a stall is not hidden) for
   ``--latency-seconds``; p50/p95/p99/max and the rate achieved;
3. **history**: ``noc demo generate``'s history for ``--years`` (stored in-process through the
   same repositories), its load time, and the store's size per year of data;
4. **search and queries** on it (in-process repository calls, no HTTP): fuzzy ticket and KB
   search p50/p95 over a set of terms, ordinary queries (by number, by month/type/town/agent,
   paged) p95;
5. **XLSX import** of ``--xlsx-rows`` generated tickets (canonical columns) with
   ``noc tickets import``'s code path, on a fresh store.

Writes ``bench/results/calls.md``.

    .venv/bin/python bench/bench_calls.py [--years 1] [--seconds 60] [--xlsx-rows 160000]
        [--parts http,history,xlsx] [--keep-sqlite FILE --keep-pg DBNAME]

``--parts`` runs some of the parts (the others show "—"); ``--keep-sqlite``/``--keep-pg`` keep
the history's stores between runs (loaded once; a later run only queries them). The XLSX file
is written once per size and kept in ``$TMPDIR/noc-bench-calls``. The HTTP parts sign in with
an API token of a lead (``tests/support/auth.py``), as a real client would.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import psycopg

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "tests"))

from support.noc_process import NocProcess  # noqa: E402

from noc.calls_intake import import_table  # noqa: E402
from noc.demo.generate import Plan, history  # noqa: E402
from noc.demo.load import load  # noqa: E402
from noc.ingest.privacy import CallerProtector  # noqa: E402
from noc.ingest.records import Context  # noqa: E402
from noc.ingest.search import parse_query  # noqa: E402
from noc.store import Store  # noqa: E402
from noc.store.kb import KbRepo  # noqa: E402
from noc.store.tickets import TicketFilter, TicketRepo  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
CACHE = Path(tempfile.gettempdir()) / "noc-bench-calls"  # generated XLSX files, kept
HASH_KEY = "bench-caller-hash-key-0123456789"
PG_ADMIN = os.environ.get("NOC_TEST_PG", "postgresql://noc_test@127.0.0.1:5432/test")
CONFIG = """\
site: {name: bench, title: {zh: 话务基准, en: calls bench}}
assets:
  - name: loop
    kind: router
    address: 127.0.0.1
    checks: [{type: icmp, interval: 60s, params: {count: 1, timeout: 500ms}}]
alerting:
  receivers:
    - {name: noc-oncall, urls: ["json://127.0.0.1:9/noc"]}
    - {name: noc-lead, urls: ["json://127.0.0.1:9/noc"]}
    - {name: carrier-liaison, urls: ["json://127.0.0.1:9/noc"]}
    - {name: purchaser-contact, urls: ["json://127.0.0.1:9/noc"]}
"""
SEARCH_TERMS = (
    "停水",
    "拖欠工资",
    "烧烤摊油烟扰民",
    "椰林镇",
    "台风",
    "医保",
    "南湾猴岛",
    "营业执照",
    "路面塌陷",
    "新村镇 停电",
    "水",  # one and two characters: the fallback path
    "公交",
)
KB_TERMS = ("医保", "异地就医", "身份证", "公积金", "招生", "水")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def call(i: str) -> dict:
    return {
        "call_id": i,
        "caller": f"1380000{hash(i) % 10_000:04d}",
        "queue": "12345",
        "entered_at": "2026-11-03 09:00:00",
        "answered_at": "2026-11-03 09:00:12",
        "ended_at": "2026-11-03 09:03:00",
        "outcome": "answered",
        "agent": "8001",
    }


# -- databases ---------------------------------------------------------------------------------


class Database:
    """A fresh store for one part (dropped after it), or a kept one named by ``url``."""

    def __init__(self, backend: str, work: Path, url: str | None = None):
        self.backend = backend
        self.kept = url is not None
        if url is not None:
            self.url = url
            if backend == "sqlite":
                self.path = Path(url.split("///", 1)[1])
            else:
                self.name = url.rsplit("/", 1)[1]
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    found = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (self.name,)
                    ).fetchone()
                    if not found:
                        conn.execute(f'CREATE DATABASE "{self.name}"')
        elif backend == "sqlite":
            self.path = work / f"calls-{uuid.uuid4().hex[:6]}.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.name = f"noc_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            info = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
            self.url = (
                f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
                f"{info.get('port', 5432)}/{self.name}"
            )

    def size(self) -> int:
        if self.backend == "sqlite":
            return sum(
                p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file()
            )
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            return conn.execute("SELECT pg_database_size(%s)", (self.name,)).fetchone()[0]

    def drop(self) -> None:
        if self.kept:
            return
        if self.backend == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# -- 1 and 2: ingest through HTTP ----------------------------------------------------------------


async def sustained(
    port: int, pid: int, seconds: float, clients: int, batch: int, headers: dict[str, str]
) -> dict:
    url = f"http://127.0.0.1:{port}/api/v1/calls"
    acked = 0
    errors = 0
    statuses: Counter = Counter()
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal acked, errors
        k = 0
        while time.monotonic() < stop:
            items = [call(f"s{n}-{k}-{i}") for i in range(batch)]
            k += 1
            t0 = time.monotonic()
            async with session.post(url, json=items) as resp:
                body = await resp.json()
            latencies.append(time.monotonic() - t0)
            statuses[resp.status] += 1
            if resp.status in (200, 201) and body.get("created") == batch:
                acked += batch
            else:
                errors += 1

    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=120), headers=headers
    ) as session:
        await asyncio.gather(*(client(n, session) for n in range(clients)))
    took = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    return {
        "records": acked,
        "seconds": took,
        "rate": acked / took,
        "errors": errors,
        "statuses": dict(statuses),
        "cpu": cpu / took,
        "batch_p50_ms": pct(latencies, 50) * 1000,
        "batch_p99_ms": pct(latencies, 99) * 1000,
    }


async def fixed_rate(
    port: int, pid: int, seconds: float, rate: int, headers: dict[str, str]
) -> dict:
    url = f"http://127.0.0.1:{port}/api/v1/calls"
    latencies: list[float] = []
    errors = 0
    statuses: Counter = Counter()
    total = int(seconds * rate)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60), headers=headers
    ) as session:

        async def one(i: int, due: float) -> None:
            nonlocal errors
            try:
                async with session.post(url, json=call(f"r{i}")) as resp:
                    await resp.read()
                    ok = resp.status == 201
                    statuses[resp.status] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                ok = False
                statuses[type(exc).__name__] += 1
            latencies.append(time.monotonic() - due)
            errors += not ok

        start = time.monotonic()
        cpu0 = cpu_seconds(pid)
        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        took = time.monotonic() - start
        cpu = cpu_seconds(pid) - cpu0
    return {
        "requests": total,
        "seconds": took,
        "rate": total / took,
        "errors": errors,
        "statuses": dict(statuses),
        "cpu": cpu / took,
        "p50_ms": pct(latencies, 50) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def http_ingest(db: Database, work: Path, args) -> dict:
    config = work / "bench.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    service = NocProcess(
        config, db.url, work / f"service-{db.backend}.log", env={"NOC_CALLER_HASH_KEY": HASH_KEY}
    ).start()
    try:
        pid = service.proc.pid
        out = {"load_before": load_average()}
        headers = service.headers  # a lead's API token (the ingest permission)
        out["sustained"] = asyncio.run(
            sustained(service.port, pid, args.seconds, args.clients, args.batch, headers)
        )
        out["latency"] = asyncio.run(
            fixed_rate(service.port, pid, args.latency_seconds, args.rate, headers)
        )
        out["load_after"] = load_average()
    finally:
        service.stop(signal.SIGTERM)
    return out


# -- 3, 4, 5: history, queries, XLSX ------------------------------------------------------------


async def timed(repeats: int, fn) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t0)
    return out


async def on_history(db: Database, work: Path, args) -> dict:
    """Load the history (unless a kept store already holds it), then time the queries."""
    store = await Store.open(db.url)
    out: dict = {}
    size0 = db.size()
    try:
        end = dt.date(2026, 11, 1)
        start = end - dt.timedelta(days=round(365.25 * args.years))
        plan = Plan(start, end, seed=14)
        tickets = TicketRepo(store, TZ)
        if db.kept and await tickets.count():
            out["reused"] = True
        else:
            t0 = time.monotonic()
            report = await load(store, plan, CallerProtector(HASH_KEY), TZ)
            out["load_seconds"] = time.monotonic() - t0
            out["records"] = dict(report.records)
            out["days"] = report.days
        kb = KbRepo(store)
        out["tickets"] = await tickets.count()
        fuzzy: list[float] = []
        hits: dict[str, int] = {}
        for term in SEARCH_TERMS:
            q = parse_query(term)

            async def search(q=q, term=term):
                _, total = await tickets.search(q, TicketFilter(), limit=20)
                hits[term] = total

            fuzzy += await timed(args.repeats, search)
        out["fuzzy"] = fuzzy
        out["hits"] = hits
        kb_times: list[float] = []
        for term in KB_TERMS:
            kb_times += await timed(args.repeats, lambda t=term: kb.search(parse_query(t)))
        out["kb"] = kb_times
        month = dt.datetime(2026, 3, 1, tzinfo=TZ)
        month_end = dt.datetime(2026, 4, 1, tzinfo=TZ)
        ordinary = {
            "by number": lambda: tickets.get("LS2026031500042"),
            "a month, newest 50": lambda: tickets.list(TicketFilter(start=month, end=month_end)),
            "a month, page 20": lambda: tickets.list(
                TicketFilter(start=month, end=month_end), offset=950
            ),
            "type + month": lambda: tickets.list(
                TicketFilter(start=month, end=month_end, type="complaint")
            ),
            "town + month": lambda: tickets.list(
                TicketFilter(start=month, end=month_end, town="新村镇")
            ),
            "agent + month": lambda: tickets.list(
                TicketFilter(start=month, end=month_end, agent="8012")
            ),
            "all, newest 50": lambda: tickets.list(TicketFilter()),
        }
        out["ordinary"] = {name: await timed(args.repeats, fn) for name, fn in ordinary.items()}
    finally:
        await store.close()  # SQLite's last connection folds the WAL into the file
    if not out.get("reused"):
        out["size"] = db.size() - size0
    return out


async def on_xlsx(db: Database, work: Path, args) -> dict:
    store = await Store.open(db.url)
    try:
        return await xlsx_import(store, work, args.xlsx_rows)
    finally:
        await store.close()


def write_xlsx(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    from noc.ingest.records import TICKET_FIELDS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    ws.append(list(TICKET_FIELDS))
    plan = Plan(dt.date(2030, 1, 1), dt.date(2031, 1, 1), seed=99)
    done = 0
    for day in history(plan, CallerProtector(HASH_KEY), TZ):
        for t in day.tickets:
            values = dataclasses.asdict(t)
            values["ticket_no"] = "XL" + t.ticket_no[2:]
            values["caller"] = None
            row = []
            for name in TICKET_FIELDS:
                v = values.get(name)
                if isinstance(v, dt.datetime):
                    v = v.astimezone(TZ).replace(tzinfo=None)
                row.append(v)
            ws.append(row)
            done += 1
            if done >= rows:
                wb.save(path)
                return
    wb.save(path)


async def xlsx_import(store: Store, work: Path, rows: int) -> dict:
    """Import a generated file of ``rows`` tickets (written once, kept in CACHE)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"tickets-{rows}.xlsx"
    t0 = time.monotonic()
    if not path.exists():
        partial = path.with_suffix(".part")
        write_xlsx(partial, rows)
        partial.rename(path)
    written = time.monotonic() - t0
    ctx = Context(TZ, CallerProtector(HASH_KEY))
    t0 = time.monotonic()
    report = await import_table(store, "tickets", path, ctx)
    took = time.monotonic() - t0
    return {
        "rows": report.rows,
        "created": report.created,
        "problems": len(report.problems),
        "seconds": took,
        "write_seconds": written,
        "mb": path.stat().st_size / 1e6,
    }


# -- report ------------------------------------------------------------------------------------


def render(results: dict, args) -> str:
    lines = [
        "## Calls and tickets: ingest, search, queries, import (issue 14)",
        "",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores "
        f"({platform.machine()}), Linux {platform.release()}, Python {platform.python_version()}; "
        "shared with other helpers' test runs (load average before/after each part below). "
        "`bench/bench_calls.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items())
        + "`.",
        "",
        "| | goal | " + " | ".join(results) + " |",
        "|---|---|" + "---:|" * len(results),
    ]

    def cell(fn, r) -> str:
        try:
            return fn(r)
        except KeyError:  # that part did not run
            return "—"

    def row(label: str, goal: str, fn) -> None:
        lines.append(
            f"| {label} | {goal} | " + " | ".join(cell(fn, r) for r in results.values()) + " |"
        )

    row(
        f"ingest sustained, {args.clients} clients × batches of {args.batch} calls, "
        f"{args.seconds:.0f} s: records/s",
        "≥ 5,000/s",
        lambda r: f"{r['http']['sustained']['rate']:,.0f}",
    )
    row("… service CPU (cores busy)", "", lambda r: f"{r['http']['sustained']['cpu']:.2f}")
    row(
        "… answers (HTTP status × count)",
        "no 5xx",
        lambda r: _statuses(r["http"]["sustained"]),
    )
    row(
        "… batch latency p50 / p99 ms",
        "",
        lambda r: (
            f"{r['http']['sustained']['batch_p50_ms']:.0f} / "
            f"{r['http']['sustained']['batch_p99_ms']:.0f}"
        ),
    )
    row(
        f"single-record POSTs at {args.rate}/s for {args.latency_seconds:.0f} s: rate achieved",
        "1,000/s",
        lambda r: f"{r['http']['latency']['rate']:,.0f}/s ({r['http']['latency']['errors']} err)",
    )
    row(
        "… latency p50 / p95 / p99 / max ms",
        "p99 < 100 ms",
        lambda r: "{p50_ms:.0f} / {p95_ms:.0f} / {p99_ms:.0f} / {max_ms:.0f}".format(
            **r["http"]["latency"]
        ),
    )
    row("… service CPU (cores busy)", "", lambda r: f"{r['http']['latency']['cpu']:.2f}")
    row(
        "… answers (HTTP status or client error × count)",
        "",
        lambda r: _statuses(r["http"]["latency"]),
    )
    row(
        "load average before → after the HTTP parts",
        "",
        lambda r: f"{r['http']['load_before']} → {r['http']['load_after']}",
    )
    row(
        "history stored (tickets / calls / further events)",
        "",
        lambda r: (
            f"{r['history']['tickets']:,} / {r['history']['records'].get('calls', 0):,} / "
            f"{r['history']['records'].get('events', 0):,}"
        ),
    )
    row("… generated and stored in", "", lambda r: f"{r['history']['load_seconds']:.0f} s")
    row(
        "store size per year of data",
        "",
        lambda r: f"{r['history']['size'] / 1e6 / args.years:,.0f} MB",
    )
    row(
        f"fuzzy ticket search ({len(SEARCH_TERMS)} terms × {args.repeats}): p50 / p95 ms",
        "p95 ≤ 300 ms",
        lambda r: (
            f"{pct(r['history']['fuzzy'], 50) * 1000:.0f} / "
            f"{pct(r['history']['fuzzy'], 95) * 1000:.0f}"
        ),
    )
    row(
        f"KB search ({len(KB_TERMS)} terms): p50 / p95 ms",
        "",
        lambda r: (
            f"{pct(r['history']['kb'], 50) * 1000:.1f} / {pct(r['history']['kb'], 95) * 1000:.1f}"
        ),
    )
    first = next(iter(results.values()))
    for name in first["history"]["ordinary"] if "history" in first else ():
        row(
            f"ordinary query: {name}, p95 ms",
            "≤ 100 ms",
            lambda r, n=name: f"{pct(r['history']['ordinary'][n], 95) * 1000:.1f}",
        )
    row(
        "XLSX import (tickets, canonical columns): rows, s",
        "160,000 rows ≤ 60 s",
        lambda r: (
            f"{r['xlsx']['rows']:,} rows in {r['xlsx']['seconds']:.0f} s "
            f"({r['xlsx']['rows'] / r['xlsx']['seconds']:,.0f} rows/s, "
            f"{r['xlsx']['problems']} problems)"
        ),
    )
    lines += ["", *goals(results, args)]
    lines += [
        "",
        "Fuzzy search p50 ms per term (hits, then ms): "
        + "; ".join(
            f"{backend}: "
            + ", ".join(
                f"{t} ({r['history']['hits'][t]:,}) "
                f"{pct(r['history']['fuzzy'][i * args.repeats : (i + 1) * args.repeats], 50) * 1000:.0f}"
                for i, t in enumerate(SEARCH_TERMS)
            )
            for backend, r in results.items()
            if "history" in r
        ),
    ]
    lines.append("")
    return "\n".join(lines) + "\n"


def _statuses(part: dict) -> str:
    return ", ".join(f"{k} × {v:,}" for k, v in sorted(part.get("statuses", {}).items()))


def goals(results: dict, args) -> list[str]:
    """One line per goal: met or NOT met, per backend."""
    checks = {
        "ingest ≥ 5,000 records/s": lambda r: r["http"]["sustained"]["rate"] >= 5000,
        "1,000 single-record requests/s achieved with p99 < 100 ms": lambda r: (
            r["http"]["latency"]["rate"] >= 0.98 * args.rate
            and r["http"]["latency"]["p99_ms"] < 100
        ),
        "fuzzy search p95 ≤ 300 ms": lambda r: pct(r["history"]["fuzzy"], 95) <= 0.3,
        "ordinary queries p95 ≤ 100 ms": lambda r: all(
            pct(v, 95) <= 0.1 for v in r["history"]["ordinary"].values()
        ),
        "XLSX import at ≥ 160,000 rows/60 s": lambda r: (
            r["xlsx"]["rows"] / r["xlsx"]["seconds"] >= 160_000 / 60
        ),
    }
    out = []

    def verdict(check, r) -> str:
        try:
            return "**met**" if check(r) else "**NOT met**"
        except KeyError:
            return "not measured in this run"

    for name, check in checks.items():
        verdicts = ", ".join(f"{backend} {verdict(check, r)}" for backend, r in results.items())
        out.append(f"- Goal: {name} — {verdicts}.")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--years", type=float, default=1)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--xlsx-rows", type=int, default=160_000)
    parser.add_argument(
        "--parts", default="http,history,xlsx", help="which parts to run (comma-separated)"
    )
    parser.add_argument(
        "--keep-sqlite",
        metavar="FILE",
        help="the history's SQLite store: kept, loaded only when empty (for repeated runs)",
    )
    parser.add_argument(
        "--keep-pg", metavar="DBNAME", help="the same for PostgreSQL: a database kept by name"
    )
    parser.add_argument("--out", default=str(BENCH / "results" / "calls.md"))
    parser.add_argument(
        "--render", metavar="JSON", help="only rewrite the fragment from a run's JSON"
    )
    args = parser.parse_args()
    out = Path(args.out)
    raw = out.with_suffix(".json")
    del args.out
    if args.render:
        saved = json.loads(Path(args.render).read_text(encoding="utf-8"))
        out.write_text(render(saved["results"], argparse.Namespace(**saved["args"])), "utf-8")
        return 0
    del args.render
    parts = set(args.parts.split(","))
    kept: dict[str, str] = {}
    if args.keep_sqlite:
        kept["sqlite"] = f"sqlite:///{Path(args.keep_sqlite).resolve()}"
    if args.keep_pg:
        info = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
        kept["postgresql"] = (
            f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
            f"{info.get('port', 5432)}/{args.keep_pg}"
        )
    del args.keep_sqlite, args.keep_pg
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        work = Path(tmp)
        for backend in args.backends.split(","):
            r: dict = {}
            if "http" in parts:
                print(f"== {backend}: HTTP ingest", flush=True)
                db = Database(backend, work)
                try:
                    r["http"] = http_ingest(db, work, args)
                finally:
                    db.drop()
                print(json.dumps(r["http"], default=str), flush=True)
            if "history" in parts:
                print(f"== {backend}: {args.years} year(s) of history", flush=True)
                db = Database(backend, work, kept.get(backend))
                try:
                    r["history"] = asyncio.run(on_history(db, work, args))
                finally:
                    db.drop()
                shown = {k: v for k, v in r["history"].items() if k not in ("fuzzy", "kb")}
                print(json.dumps(shown, default=str)[:2000], flush=True)
            if "xlsx" in parts:
                print(f"== {backend}: XLSX import of {args.xlsx_rows:,} tickets", flush=True)
                db = Database(backend, work)
                try:
                    r["xlsx"] = asyncio.run(on_xlsx(db, work, args))
                finally:
                    db.drop()
                print(json.dumps(r["xlsx"], default=str), flush=True)
            results[backend] = r
    out.parent.mkdir(exist_ok=True)
    raw.write_text(json.dumps({"args": vars(args), "results": results}, default=str), "utf-8")
    out.write_text(render(results, args), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
