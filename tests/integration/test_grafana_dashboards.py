"""Every Grafana panel query works against the real service scraped by a real Prometheus.

The real ``noc run`` (subprocess) probes real peers of its own on loopback — ICMP to 127.0.0.x,
a net-snmp snmpd (the CE router, whose ``lo`` stands in for the circuits' interfaces), a
Kamailio answering OPTIONS for the voice gateway, its trunk peer and three phones (one answers
503, so there is a live incident and an alert) — with alerts going to a working HTTP sink and
to a closed port (a channel that is down). Its database is seeded with two recovered incidents
(one automatic over the 15 min target, alarmed and acknowledged; one manual) so the SLA
figures have something to show from the service's first SLA computation, and with a few calls,
a ticket, a spot check and a minor fault in the current month, so every rate gauge of the
运营考核 board has a month-to-date figure from the first KPI computation.
A Debian ``prometheus`` scrapes ``/metrics`` every second; then every panel's expression, with
its template variables resolved the way Grafana does, goes through ``/api/v1/query``: each must
parse and return at least one series, and every ``noc_*`` name a dashboard uses must be one
the service exports. Not the project's lab: nothing here touches the noclab-* namespaces.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from support.coverage import watched
from support.grafana_builder import build
from support.noc_process import REPO, NocProcess, free_port, stop_child
from support.promtool import promtool_check
from support.waiting import wait_until

from noc.config import load_config
from noc.engine.incidents import ActiveIncident, Change
from noc.lab.kamailio import KamailioPeer
from noc.lab.snmpd import SnmpdPeer
from noc.store import Store
from noc.store.incidents import IncidentRepo
from noc.store.tables import Incident

pytestmark = pytest.mark.root

GRAFANA = REPO / "grafana"
SITE = "lingshui"
COMMUNITY = "grafana-test-ro"
GW, TRUNK = "127.0.0.10", "127.0.0.11"
PHONES = {"phone-01": "127.0.0.101", "phone-02": "127.0.0.102", "phone-03": "127.0.0.103"}
BUSY_PHONE = "phone-03"  # its Kamailio address answers 503
# what Grafana puts in place of its built-in variables for a 5-minute view
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP (Kamailio listens on both)."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise AssertionError("no port free for both UDP and TCP")


def http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


# --- peers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory) -> Iterator[SnmpdPeer]:
    assert shutil.which("snmpd"), "snmpd is not installed (.ci/system-deps installs it)"
    peer = SnmpdPeer(
        "127.0.0.1",
        free_port(socket.SOCK_DGRAM),
        tmp_path_factory.mktemp("snmpd"),
        community=COMMUNITY,
        overrides={"lo": 10},
        interface_prefixes=["lo"],
    )
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory) -> Iterator[KamailioPeer]:
    assert shutil.which("kamailio") or Path("/usr/sbin/kamailio").exists(), (
        "kamailio is not installed"
    )
    peer = KamailioPeer(
        [GW, TRUNK, *PHONES.values()], free_udp_tcp_port(), tmp_path_factory.mktemp("kamailio")
    )
    peer.start()
    try:
        peer.set_mode(PHONES[BUSY_PHONE], "503")
        yield peer
    finally:
        peer.stop()


class _Sink(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def alert_sink() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# --- the service --------------------------------------------------------------------------------


def inventory(snmp_port: int, sip_port: int, sink_port: int, closed_port: int) -> str:
    phones = "\n".join(
        f'  - {{name: {name}, kind: phone, address: {addr}, sip: {{uri: "sip:10{i:02d}@{addr}:{sip_port}"}}, '
        f"depends_on: [voice-gw], checks: [{{type: icmp}}, {{type: sip}}]}}"
        for i, (name, addr) in enumerate(PHONES.items(), start=1)
    )
    circuit = """  - name: {name}
    kind: {kind}
    address: {address}
    bandwidth: {bandwidth}
    interface: lo
    depends_on: [ce-router]
    checks:
      - {{type: icmp, params: {{count: 3, interval: 50ms, timeout: 500ms}}}}
      - {{type: snmp, agent: ce-router, interfaces: [lo], params: {{timeout: 500ms, retries: 0}}}}"""
    circuits = "\n".join(
        circuit.format(name=n, kind=k, address=a, bandwidth=b)
        for n, k, a, b in (
            ("mstp-voice", "mstp_circuit", "127.0.0.2", "10M"),
            ("mstp-ticket", "mstp_circuit", "127.0.0.3", "10M"),
            ("internet", "internet_line", "127.0.0.4", "50M"),
        )
    )
    closed = f"json://127.0.0.1:{closed_port}"
    return f"""version: 1
site:
  name: {SITE}
  title: {{zh: 仪表盘测试站点, en: dashboard test site}}
defaults:
  icmp: {{default: 1s}}
  snmp: {{default: 1s}}
  sip: {{default: 1s}}
assets:
  - name: ce-router
    kind: router
    address: 127.0.0.1
    snmp: {{version: "2c", community: {COMMUNITY}, port: {snmp_port}}}
    checks: [{{type: icmp}}, {{type: snmp, params: {{timeout: 500ms, retries: 0}}}}]
{circuits}
  - name: voice-gw
    kind: voice_gateway
    address: {GW}
    sip: {{uri: "sip:options@{GW}:{sip_port}", transport: udp}}
    checks:
      - {{type: icmp}}
      - {{type: sip}}
      - {{type: sip, name: trunk, uri: "sip:options@{TRUNK}:{sip_port}", depends_on: [mstp-voice]}}
{phones}
services:
  - {{name: voice-intake, title: {{zh: 市民来电受理}}, needs: [mstp-voice, voice-gw], impact: critical}}
  - {{name: ticket-exchange, title: {{zh: 省平台工单流转}}, needs: [mstp-ticket], impact: major}}
  - name: staff-phones
    title: {{zh: 办公固话}}
    impact: major
    partial: [{{down_count: 1, impact: minor}}]
    needs: [voice-gw, {{any_of: [{", ".join(PHONES)}]}}]
alerting:
  receivers:
    - {{name: noc-oncall, urls: ["json://127.0.0.1:{sink_port}/noc"]}}
    - {{name: noc-lead, urls: ["{closed}/noc-lead"]}}
    - {{name: carrier-liaison, urls: ["{closed}/carrier"]}}
    - {{name: purchaser-contact, urls: ["{closed}/purchaser"]}}
  route:
    receiver: noc-oncall
    group_by: [incident]
    group_wait: 0s
    group_interval: 1s
    repeat_interval: 0s
    routes:
      - {{receiver: noc-oncall, continue: true}}
      - {{receiver: noc-lead}}
"""


async def _seed(db_url: str, config_path: Path) -> None:
    """Two recovered incidents in the last half hour: a voice-circuit outage recovered
    automatically after 20 min (over the 15 min target) and a ticket-circuit one recovered by
    hand after 30 min; the first was alarmed and acknowledged. A previous run of the service
    watched every check for the 31 days before now (the SLA counts monitored time only)."""
    config = load_config(config_path)
    store = await Store.open(db_url, migrate=True)
    try:
        await store.sync_assets(config)
        repo = IncidentRepo(store, SITE)
        now = time.time()
        await watched(
            store,
            config,
            dt.datetime.fromtimestamp(now - 31 * 86400, dt.UTC),
            dt.datetime.fromtimestamp(now, dt.UTC),
        )
        for asset, severity, service, start, minutes, recovery in (
            ("mstp-voice", "I", "voice-intake", now - 26 * 60, 20, "automatic"),
            ("mstp-ticket", "II", "ticket-exchange", now - 31 * 60, 30, "manual"),
        ):
            key = f"circuit_down:{asset}"
            inc = ActiveIncident(
                key=key,
                type="circuit_down",
                root_asset=asset,
                fault_class="outage",
                severity=severity,
                peak_severity=severity,
                impact="critical",
                fault_started_at=start,
                detected_at=start + 3,
                members={asset},
                services=[{"service": service, "impact": "critical"}],
            )
            book = {key: inc}
            await repo.apply(
                [Change("opened", key, start + 3, {"runbook": "mstp-circuit-down"})], book
            )
            if (
                recovery == "automatic"
            ):  # alarmed 40 s after the fault (as the outbox records it), acknowledged at 60 s
                alarmed = dt.datetime.fromtimestamp(start + 40, dt.UTC)
                async with store.sessions.begin() as session:
                    await session.execute(
                        update(Incident).where(Incident.id == inc.id).values(alarmed_at=alarmed)
                    )
                    await store.append_incident_event(
                        session,
                        inc.id,
                        "alarmed",
                        alarmed,
                        "noc-alerting",
                        {"receiver": "noc-oncall", "delay_seconds": 40.0},
                    )
                await repo.acknowledge(
                    inc.id, "noc-test", "seen", at=dt.datetime.fromtimestamp(start + 60, dt.UTC)
                )
            await repo.apply(
                [
                    Change(
                        "recovered",
                        key,
                        start + minutes * 60,
                        {"id": inc.id, "recovery_kind": recovery},
                    )
                ],
                book,
            )
            for at, frm, to in ((start, "up", "down"), (start + minutes * 60, "down", "up")):
                await store.append_transition(
                    site=SITE,
                    asset=asset,
                    check="icmp",
                    from_state=frm,
                    to_state=to,
                    at=dt.datetime.fromtimestamp(at, dt.UTC),
                    reason="seeded",
                )
        await _seed_kpi(store, config, repo, now)
    finally:
        await store.close()


async def _seed_kpi(store: Store, config, repo: IncidentRepo, now: float) -> None:  # noqa: ANN001
    """A few records of every kind the 运营考核 board's rate gauges read, in this Asia/Shanghai
    month before now (fractions of the month so far, so the first minutes of a month work
    too): calls (two answered, one abandoned), an enquiry answered at once, closed, called back
    and rated, a spot check, and a platform fault acknowledged in time."""
    from noc.calls_intake import context, ingest_items

    tz = ZoneInfo("Asia/Shanghai")
    end = dt.datetime.fromtimestamp(now, dt.UTC)
    start = end.astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = end - start

    def at(fraction: float) -> str:
        return (start + span * fraction).isoformat()

    ctx = context(config)
    calls = [
        {
            "call_id": f"kpi-{i}",
            "entered_at": at(0.2),
            "answered_at": at(0.21),
            "ended_at": at(0.22),
            "outcome": "answered",
        }
        for i in (1, 2)
    ]
    calls.append(
        {"call_id": "kpi-3", "entered_at": at(0.2), "ended_at": at(0.21), "outcome": "abandoned"}
    )
    ticket = {
        "ticket_no": "KPI-T1",
        "created_at": at(0.1),
        "type": "咨询",
        "content": "咨询社保卡补办流程",
        "instant_answer": "是",
        "closed_at": at(0.11),
        "callback_at": at(0.12),
        "satisfaction": "满意",
    }
    spot = {"ticket_no": "KPI-T1", "kind": "spot_checked", "at": at(0.3), "result": "合格"}
    for kind, items in (("calls", calls), ("tickets", [ticket]), ("events", [spot])):
        results = await ingest_items(store, kind, items, ctx)
        assert all(r.ok for r in results), [r.as_json() for r in results]
    fault_at = start.timestamp() + span.total_seconds() * 0.5
    key = "phone_unreachable:phone-02"
    inc = ActiveIncident(
        key=key,
        type="phone_unreachable",
        root_asset="phone-02",
        fault_class="outage",
        severity="IV",
        peak_severity="IV",
        impact="minor",
        fault_started_at=fault_at,
        detected_at=fault_at,
        members={"phone-02"},
        services=[],
    )
    book = {key: inc}
    await repo.apply([Change("opened", key, fault_at, {})], book)
    acknowledged = fault_at + span.total_seconds() * 0.01
    await repo.acknowledge(
        inc.id, "noc-test", "seen", at=dt.datetime.fromtimestamp(acknowledged, dt.UTC)
    )
    await repo.apply(
        [Change("recovered", key, acknowledged, {"id": inc.id, "recovery_kind": "automatic"})],
        book,
    )


class Prometheus:
    """The Debian ``prometheus`` with a scrape config of its own, in a temp directory."""

    def __init__(self, workdir: Path, scrape_port: int):
        binary = shutil.which("prometheus")
        assert binary, "prometheus is not installed (.ci/system-deps installs the Debian package)"
        self.port = free_port()
        (workdir / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: noc\n    static_configs: [{{targets: ['127.0.0.1:{scrape_port}']}}]\n"
        )
        self.log_path = workdir / "prometheus.log"
        self.log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=self.log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until(self._ready, 30, "prometheus ready")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        assert self.proc.poll() is None, f"prometheus died: {self.log_path.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def api(self, path: str, **params: str | list[str]) -> dict[str, Any]:
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            return http_json(f"http://127.0.0.1:{self.port}/api/v1/{path}?{query}")
        except urllib.error.HTTPError as exc:  # a bad query is a 400 with a JSON error body
            return json.loads(exc.read())

    def query(self, expr: str) -> dict[str, Any]:
        return self.api("query", query=expr)

    def stop(self) -> None:
        stop_child(self.proc)
        self.log.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, snmpd, kamailio, alert_sink) -> Iterator[tuple[NocProcess, Prometheus]]:
    work = tmp_path_factory.mktemp("grafana-check")
    config = work / "inventory.yaml"
    config.write_text(
        inventory(snmpd.port, kamailio.port, alert_sink, free_port()), encoding="utf-8"
    )
    db_url = f"sqlite:///{work / 'noc.db'}"
    asyncio.run(_seed(db_url, config))
    service = NocProcess(config, db_url, work / "service.log").start()
    prom = None
    try:
        prom = Prometheus(work, service.port)
        # a few scrapes, and the service's first probes and SLA refresh, before the panels are asked
        wait_until(lambda: _scrapes(prom) >= 5, 60, "five scrapes of the service")
        yield service, prom
    finally:
        if prom is not None:
            prom.stop()
        service.stop()


def _scrapes(prom: Prometheus) -> int:
    data = prom.query('count_over_time(up{job="noc"}[5m])')
    result = data.get("data", {}).get("result", [])
    return int(float(result[0]["value"][1])) if result else 0


# --- Grafana's variable substitution -----------------------------------------------------------

_LABEL_VALUES = re.compile(
    r"^\s*label_values\(\s*(?:(?P<selector>.+?)\s*,\s*)?(?P<label>[A-Za-z_]\w*)\s*\)\s*$"
)


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace ``$name``, ``${name}`` and ``[[name]]`` (longest names first), as Grafana does."""
    for name in sorted(values, key=len, reverse=True):
        text = text.replace(f"${{{name}}}", values[name]).replace(f"[[{name}]]", values[name])
        text = re.sub(rf"\${re.escape(name)}(?![\w])", lambda _m, v=values[name]: v, text)
    return text


def _custom_value(var: dict[str, Any]) -> str:
    value = var["current"]["value"]
    shanghai = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    month_start = shanghai.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if (
        var["name"] == "window"
        and value == "month"
        and shanghai - month_start < dt.timedelta(minutes=35)
    ):
        return "30d"  # the seeded incidents (the last 31 min) belong to the previous month
    return value


def resolve_variables(
    dashboard: dict[str, Any], prom: Prometheus
) -> tuple[dict[str, str], list[str]]:
    """Each template variable's value as Grafana would put it in a query: the first value of a
    single-value query variable, ``allValue`` (or ``(a|b)``, regex-escaped) for a multi-value
    one on All, the current value of a custom variable."""
    values, problems = dict(BUILTINS), []
    for var in dashboard["templating"]["list"]:
        name = var["name"]
        if var["type"] == "datasource":
            continue
        if var["type"] == "custom":
            values[name] = _custom_value(var)
            continue
        match = _LABEL_VALUES.match(substitute(var["definition"], values))
        assert match, (
            f"{dashboard['uid']}: variable {name}: unsupported query {var['definition']!r}"
        )
        params = {"match[]": [match["selector"]]} if match["selector"] else {}
        answer = prom.api(f"label/{match['label']}/values", **params)
        found = answer.get("data") or []
        if answer.get("status") != "success" or not found:
            problems.append(
                f"{dashboard['uid']}: variable ${name} ({var['definition']}) has no values: "
                f"{answer.get('error', 'empty')}"
            )
            values[name] = "no-value"
            continue
        if var.get("multi") and var["current"].get("value") == ["$__all"]:
            values[name] = var.get("allValue") or "(" + "|".join(re.escape(v) for v in found) + ")"
        else:
            values[name] = found[0]
    return values, problems


def panel_queries(
    dashboards: dict[str, dict[str, Any]], prom: Prometheus
) -> tuple[list[tuple[str, str]], list[str]]:
    """(where, expr with variables substituted) for every panel target; problems resolving variables."""
    queries, problems = [], []
    for dashboard in dashboards.values():
        values, issues = resolve_variables(dashboard, prom)
        problems += issues
        for panel in dashboard["panels"]:
            for t in panel["targets"]:
                where = f"{dashboard['uid']} #{panel['id']} {panel['title']} [{t['refId']}]"
                queries.append((where, substitute(t["expr"], values)))
    return queries, problems


# --- the checks ---------------------------------------------------------------------------------


def _committed() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((GRAFANA / "dashboards").glob("*.json"))
    }


def exported_names(text: str) -> set[str]:
    """Metric names in a text exposition: every sample's name and every declared family."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            names.add(name)
            if kind == "counter":
                names.add(name + "_total")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def test_every_dashboard_metric_is_exported_by_the_service(stack):
    service, _ = stack
    exported = exported_names(service.text("/metrics"))
    used: dict[str, set[str]] = {}
    for name, dashboard in _committed().items():
        for panel in dashboard["panels"]:
            for t in panel["targets"]:
                for metric in build.metric_names(t["expr"]):
                    used.setdefault(metric, set()).add(f"{name}: {panel['title']}")
        for var in dashboard["templating"]["list"]:
            for metric in build.metric_names(var.get("definition", "")):
                used.setdefault(metric, set()).add(f"{name}: ${var['name']}")
    assert used, "the dashboards use no noc_* metric"
    missing = {m: sorted(where) for m, where in used.items() if m not in exported}
    assert not missing, (
        f"metrics used by dashboards but not on /metrics: {json.dumps(missing, ensure_ascii=False)}"
    )


def test_promtool_finds_nothing_to_say_about_the_service_the_dashboards_read(stack):
    """The fullest live exposition (circuits, gateway, trunk, phones, seeded SLA figures)."""
    service, _ = stack
    text = service.text("/metrics")
    assert "# TYPE noc_interface_bytes_total counter" in text
    assert promtool_check(text) == (0, "")


def test_every_panel_query_parses_and_returns_series(stack):
    _, prom = stack
    dashboards = _committed()
    queries, _ = panel_queries(dashboards, prom)
    assert len(queries) >= 60, "fewer queries than the five dashboards hold"
    # parse: every query is accepted by Prometheus (errors here are bugs in the dashboards)
    bad = [
        f"{where}: {answer.get('error')} in {expr}"
        for where, expr in queries
        if (answer := prom.query(expr))["status"] != "success"
    ]
    assert not bad, "queries Prometheus rejects:\n" + "\n".join(bad)
    # data: give the service's probes, incident, SLA and KPI refresh up to 90 s (one SLA refresh period and then some) to show up
    empty: list[str] = []
    problems: list[str] = []
    deadline = time.monotonic() + 90
    while True:
        queries, problems = panel_queries(dashboards, prom)
        empty = [
            f"{where}: {expr}" for where, expr in queries if not prom.query(expr)["data"]["result"]
        ]
        if (not empty and not problems) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not (problems or empty), "panels that returned no series:\n" + "\n".join(
        problems + empty
    )


# the asset kinds each dashboard is about (the test inventory has a router too, which must stay out)
DASHBOARD_KINDS = {
    "circuits.json": {"mstp_circuit", "internet_line"},
    "voice.json": {"voice_gateway", "phone"},
}


def test_circuit_and_voice_panels_show_only_their_assets(stack):
    """On "All", a variable's allValue matches every asset: the panels' own kind filters must keep
    the CE router out of the circuits board, and ICMP checks out of the voice board's SIP panels."""
    _, prom = stack
    dashboards = _committed()
    wrong = []
    for name, kinds in DASHBOARD_KINDS.items():
        queries, problems = panel_queries({name: dashboards[name]}, prom)
        assert not problems, problems
        for where, expr in queries:
            answer = prom.query(expr)
            assert answer["status"] == "success", f"{where}: {answer.get('error')}"
            for series in answer["data"]["result"]:
                labels = series["metric"]
                if "kind" in labels and labels["kind"] not in kinds:
                    wrong.append(f"{where}: kind {labels['kind']} ({labels.get('asset')})")
                if 'check!="icmp"' in expr and labels.get("check") == "icmp":
                    wrong.append(f"{where}: an ICMP check in a SIP panel ({labels.get('asset')})")
    assert not wrong, "series outside the dashboard's assets:\n" + "\n".join(wrong)
