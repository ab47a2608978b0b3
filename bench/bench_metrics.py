"""Benchmark: the cost of one ``/metrics`` scrape, shipped Lingshui inventory and 1,000 assets.

The snapshot is filled as a running service fills it: a realistic result for every check
(ICMP RTT/loss/jitter, SIP 200 with its response time, SNMP rates, utilisation and oper
status per interface), a health state for every check (a few down, degraded, flapping), open
incidents, and SLA rows (month and rolling 30 d, burn rates on the 30 d rows) for the site,
every service and every asset. Then three ways of producing the same samples are timed:

- **served**: ``Metrics.exposition()``, what ``/metrics`` returns (the snapshot's lines are
  rendered when values change; a scrape joins them to ``generate_latest`` of the few ordinary
  instruments);
- **registry**: ``generate_latest(metrics.registry)``, the same snapshot read through its
  prometheus_client collector (``GaugeMetricFamily`` objects built at scrape time);
- **peer**: plain prometheus_client ``Gauge(...).labels(...).set(...)`` holding the same
  series, scraped with ``generate_latest`` (the usual way to write an exporter).

All three must parse to the same samples (checked before timing). No network, no root.
Run: ``.venv/bin/python bench/bench_metrics.py``; writes bench/results/metrics.md.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prometheus_client import CollectorRegistry, Gauge, generate_latest  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from noc.config import DEFAULT_CONFIG, NocConfig, load_config, parse_config  # noqa: E402
from noc.metrics import Metrics  # noqa: E402
from noc.metrics.snapshot import MetricsSnapshot  # noqa: E402
from probes.base import ProbeResult, ResultCode  # noqa: E402
from sla.gauges import BURN_RATE_LOOKBACKS, SlaGauges, SlaSnapshot, SlaTargets  # noqa: E402

SCRAPES = 200  # served path, every inventory
SLOW_SCRAPES = 30  # registry and peer paths at 1,000 assets (each scrape is several hundred ms)
GOAL_MS = 50.0
RESULTS = ROOT / "bench" / "results" / "metrics.md"
NOW = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)


# -- inventories ----------------------------------------------------------------------------


def synthetic_config(n_assets: int = 1000) -> NocConfig:
    """1,000 assets, 3 checks each: 20 routers (8 interfaces each), 180 circuits read on their
    router's agent, 50 voice gateways (a trunk each), 750 phones; 12 services."""
    lines = ["site: {name: province, title: {zh: 省平台, en: province}}", "assets:"]
    routers = [f"r{i:02d}" for i in range(20)]
    for i, name in enumerate(routers):
        lines += [
            f"  - name: {name}",
            "    kind: router",
            f"    address: 198.18.{100 + i}.1",
            '    snmp: {version: "2c", community: bench-ro}',
            "    checks: [{type: icmp}, {type: snmp}, {type: icmp, name: loopback, address: 198.18.99.1}]",
        ]
    circuits = []
    for i in range(180):
        name, router = f"c{i:03d}", routers[i % len(routers)]
        circuits.append(name)
        lines += [
            f"  - name: {name}",
            "    kind: mstp_circuit",
            f"    address: 198.19.{i // 250}.{1 + i % 250}",
            "    bandwidth: 10M",
            f"    interface: ge-{i // len(routers)}",
            f"    depends_on: [{router}]",
            f"    checks: [{{type: icmp}}, {{type: snmp, agent: {router}, interfaces: [ge-{i // len(routers)}]}},"
            " {type: icmp, name: far-end, address: 198.18.98.1}]",
        ]
    gateways = []
    for i in range(50):
        name = f"gw{i:02d}"
        gateways.append(name)
        lines += [
            f"  - name: {name}",
            "    kind: voice_gateway",
            f"    address: 198.18.97.{1 + i}",
            f'    sip: {{uri: "sip:options@198.18.97.{1 + i}:5060"}}',
            f"    depends_on: [{circuits[i]}]",
            f'    checks: [{{type: icmp}}, {{type: sip}}, {{type: sip, name: trunk, uri: "sip:options@198.18.96.{1 + i}"}}]',
        ]
    for i in range(n_assets - len(routers) - len(circuits) - len(gateways)):
        addr = f"198.18.{10 + i // 250}.{1 + i % 250}"
        lines.append(
            f'  - {{name: p{i:03d}, kind: phone, address: {addr}, sip: {{uri: "sip:{1000 + i}@{addr}"}}, '
            f"depends_on: [{gateways[i % len(gateways)]}], checks: [{{type: icmp}}, {{type: sip}}, "
            f'{{type: sip, name: registrar, uri: "sip:reg@{addr}:5062"}}]}}'
        )
    lines.append("services:")
    for i in range(12):
        lines += [
            f"  - name: svc{i:02d}",
            f"    title: {{zh: 服务{i}, en: service {i}}}",
            f"    needs: [{circuits[i]}, {gateways[i]}]",
            "    impact: major",
        ]
    return parse_config("\n".join(lines) + "\n", "synthetic-1000.yaml")


# -- filling the snapshot like a running service ----------------------------------------------


def results(
    config: NocConfig, rng: random.Random
) -> list[tuple[tuple[str, str], ProbeResult, str, bool]]:
    """A realistic (key, probe result, health state, flapping) for every check."""
    out = []
    router_ifaces = {
        a.name: [c.interface for c in config.assets if c.interface and a.name in c.depends_on]
        for a in config.assets
        if a.kind == "router"
    }
    for asset, check in config.iter_checks():
        key = (asset.name, check.check_name)
        at = NOW.timestamp() - rng.uniform(0, 10)
        if check.type == "icmp":
            rtts = [rng.uniform(0.0005, 0.030) for _ in range(3)]
            values = {
                "sent": 3.0,
                "received": 3.0,
                "loss_ratio": rng.choice([0.0] * 9 + [1 / 3]),
                "rtt_avg_seconds": sum(rtts) / 3,
                "jitter_seconds": abs(rtts[1] - rtts[0]),
            }
            result = ProbeResult.success(
                kind="icmp", started_at=at, duration_seconds=0.1 + rtts[-1], values=values
            )
        elif check.type == "sip":
            rtt = rng.uniform(0.001, 0.050)
            if rng.random() < 0.02:
                result = ProbeResult.failure(
                    ResultCode.TIMEOUT,
                    "no final response",
                    kind="sip",
                    started_at=at,
                    duration_seconds=2.0,
                )
            else:
                result = ProbeResult.success(
                    "200 OK",
                    kind="sip",
                    started_at=at,
                    duration_seconds=rtt,
                    status_code=200,
                    timings={"rtt": rtt},
                )
        else:
            names = check.interfaces or router_ifaces.get(asset.name) or ["lo"]
            names = list(names) + (["lo", "lan"] if not check.interfaces else [])
            values = {"sys_uptime_seconds": 86400.0, "interfaces_reported": float(len(names))}
            for name in names:
                bps_in, bps_out = rng.uniform(0, 9e6), rng.uniform(0, 9e6)
                values.update(
                    {
                        f"if.{name}.oper_up": 1.0,
                        f"if.{name}.admin_up": 1.0,
                        f"if.{name}.bandwidth_bps": 1e7,
                        f"if.{name}.in_bps": bps_in,
                        f"if.{name}.out_bps": bps_out,
                        f"if.{name}.in_utilisation_ratio": bps_in / 1e7,
                        f"if.{name}.out_utilisation_ratio": bps_out / 1e7,
                    }
                )
            result = ProbeResult.success(
                f"{len(names)} interface(s)",
                kind="snmp",
                started_at=at,
                duration_seconds=rng.uniform(0.005, 0.05),
                values=values,
            )
        r = rng.random()
        out.append(
            (key, result, "DOWN" if r < 0.01 else "DEGRADED" if r < 0.03 else "UP", r > 0.995)
        )
    return out


def apply(
    snap: MetricsSnapshot, batch: list[tuple[tuple[str, str], ProbeResult, str, bool]]
) -> None:
    """What the service does per probe result: the result, then the check's state."""
    for key, result, state, flapping in batch:
        snap.observe_result(key, result)
        snap.set_check_state(key, state, flapping)


def sla_snapshot(config: NocConfig, rng: random.Random) -> SlaSnapshot:
    site = config.site.name
    scopes = (
        [f"site:{site}"]
        + [f"service:{s.name}" for s in config.services]
        + [f"asset:{a.name}" for a in config.assets if a.checks]
    )
    rows = []
    for scope in scopes:
        for window in ("month", "30d"):
            rows.append(
                SlaGauges(
                    site,
                    scope,
                    window,
                    availability_ratio=rng.uniform(0.995, 1.0),
                    failures=rng.randint(0, 3),
                    mtbf_seconds=rng.uniform(1e5, 2.6e6),
                    mttr_seconds={
                        "automatic": rng.uniform(60, 900),
                        "manual": rng.uniform(3600, 80000),
                    },
                    breaches={"automatic": rng.randint(0, 1), "manual": 0},
                    error_budget_remaining_ratio=rng.uniform(0, 1),
                    response_timeliness_ratio=rng.uniform(0.9, 1),
                    alarm_delay_seconds={"0.5": rng.uniform(1, 20), "1": rng.uniform(20, 60)},
                    burn_rate={lb: rng.uniform(0, 2) for lb in BURN_RATE_LOOKBACKS}
                    if window == "30d"
                    else {},
                )
            )
    targets = SlaTargets(0.999, 600 * 3600.0, {"automatic": 900.0, "manual": 86400.0})
    return SlaSnapshot(NOW, targets, tuple(rows))


def peer_registry(metrics: Metrics) -> tuple[CollectorRegistry, float]:
    """The same series as plain prometheus_client Gauges; returns the registry and the seconds
    the ``labels(...).set(...)`` calls took."""
    registry = CollectorRegistry()
    for collector in (metrics.base,):
        registry.register(_Forward(collector))
    started = time.perf_counter()
    for family in metrics.snapshot.families:
        gauge = Gauge(
            family.name, family.documentation, list(family.label_names), registry=registry
        )
        for labels, value in family._values.items():  # noqa: SLF001 - a benchmark reads the raw table
            gauge.labels(*labels).set(value)
    return registry, time.perf_counter() - started


class _Forward:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


# -- timing ---------------------------------------------------------------------------------


def timed(produce: Callable[[], bytes], n: int) -> tuple[list[float], int]:
    produce()  # warm-up
    times = []
    gc.collect()
    for _ in range(n):
        t0 = time.perf_counter()
        body = produce()
        times.append((time.perf_counter() - t0) * 1000)
    return times, len(body)


def stable(body: bytes) -> dict:
    """Samples except the process/GC ones, which move between two scrapes."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
        if not s.name.startswith(("process_", "python_gc_"))
    }


def p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]
        if len(values) > 1
        else values[0]
    )


def bench(label: str, config: NocConfig, slow_scrapes: int) -> tuple[list[str], float]:
    rng = random.Random(12345)
    metrics = Metrics(config)
    batch = results(config, rng)
    t0 = time.perf_counter()
    apply(metrics.snapshot, batch)  # first results: every series' label text is rendered
    first_ms = (time.perf_counter() - t0) * 1000
    again = results(config, rng)
    t0 = time.perf_counter()
    apply(metrics.snapshot, again)  # steady state: values change, labels known
    steady_us = (time.perf_counter() - t0) * 1e6 / len(again)
    metrics.snapshot.set_open_incidents({"I": 1, "III": 2, "IV": 4})
    metrics.snapshot.set_sla(sla_snapshot(config, rng))
    checks = len(batch)
    sla = sla_snapshot(config, rng)
    t0 = time.perf_counter()
    metrics.snapshot.set_sla(sla)
    sla_ms = (time.perf_counter() - t0) * 1000
    peer, peer_set_s = peer_registry(metrics)

    served, registry = metrics.exposition(), generate_latest(metrics.registry)
    peer_body = generate_latest(peer)
    assert stable(served) == stable(registry) == stable(peer_body), "the three paths disagree"
    samples = len(stable(served))

    rows, served_p95, registry_p50 = [], 0.0, 0.0
    for name, produce, n in (
        ("served: `Metrics.exposition()`", metrics.exposition, SCRAPES),
        (
            "registry: `generate_latest(registry)`, MetricFamily collectors",
            lambda: generate_latest(metrics.registry),
            slow_scrapes,
        ),
        (
            "peer: `Gauge.labels().set()` + `generate_latest`",
            lambda: generate_latest(peer),
            slow_scrapes,
        ),
    ):
        print(f"{label}: {name} × {n} …", flush=True)
        times, size = timed(produce, n)
        if name.startswith("served"):
            served_p95 = p(times, 0.95)
            served_p50 = p(times, 0.50)
        elif name.startswith("registry"):
            registry_p50 = p(times, 0.50)
        rows.append(
            f"| {label} | {name} | {n} | {p(times, 0.5):.2f} | {p(times, 0.95):.2f} | {max(times):.2f} "
            f"| {size / 1e6:.2f} |"
        )
    peer_p50 = float(rows[-1].split("|")[4])
    rows.append(f"| {label} | ratio peer p50 / served p50 | | {peer_p50 / served_p50:.0f}× | | | |")
    facts = (
        f"{label}: {len(config.assets)} assets, {checks} checks, {samples} samples per scrape. Update cost "
        f"(on the event loop, outside scrapes): first result of every check {first_ms:.0f} ms in all, then "
        f"{steady_us:.0f} µs per probe result (result + state); one SLA refresh (`set_sla`, "
        f"{len(sla.rows)} rows) {sla_ms:.0f} ms; all the snapshot's values through `Gauge.labels().set()` "
        f"{peer_set_s * 1000:.0f} ms."
    )
    return rows + [f"<!--facts {facts}-->"], served_p95, registry_p50 * 1000 / samples


def main() -> int:
    cases = [
        ("Lingshui (shipped)", load_config(DEFAULT_CONFIG), SCRAPES),
        ("synthetic 1,000 assets", synthetic_config(), SLOW_SCRAPES),
    ]
    table, facts, goal_p95 = [], [], None
    for label, config, slow in cases:
        rows, p95, per_sample_us = bench(label, config, slow)
        table += [r for r in rows if not r.startswith("<!--")]
        facts += [
            r.removeprefix("<!--facts ").removesuffix("-->") for r in rows if r.startswith("<!--")
        ]
        if label.startswith("synthetic"):
            goal_p95 = p95
    met = goal_p95 is not None and goal_p95 <= GOAL_MS
    cpu = platform.processor() or platform.machine()
    text = "\n".join(
        [
            "# /metrics scrape cost",
            "",
            f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores ({cpu}), "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"prometheus_client {_version('prometheus_client')}.",
            "",
            "Time to produce one whole `/metrics` body (milliseconds, in-process, no HTTP), the snapshot filled "
            "as a running service fills it: a result and a health state for every check, interface rates for every "
            "SNMP interface, open incidents, SLA rows (month and 30 d) for the site, every service and every asset. "
            "The three paths expose the same samples (checked). *served* is what `/metrics` returns; *registry* "
            "reads the same snapshot through its prometheus_client collector; *peer* holds the same series in "
            "ordinary `prometheus_client.Gauge`s set with `.labels().set()`.",
            "",
            "| inventory | path | scrapes | p50 ms | p95 ms | max ms | body MB |",
            "|---|---|---:|---:|---:|---:|---:|",
            *table,
            "",
            *[f"- {f}" for f in facts],
            "",
            f"Goal: ≤ {GOAL_MS:g} ms per scrape at 1,000 assets — served p95 {goal_p95:.2f} ms: "
            f"**{'met' if met else 'NOT met'}**.",
            "",
            "Why the served path is fast: `generate_latest` formats every sample at scrape time (sorting and "
            f"escaping its labels), about {per_sample_us:.0f} µs a sample in this run, so tens of thousands of samples "
            "cost hundreds of ms. "
            "The snapshot renders a series' line when its value changes (label text once per series) and a scrape "
            "only joins ready strings; the work moves to updates, which arrive a few hundred per second at most.",
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0 if met else 1


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    sys.exit(main())
