"""Build the hotline NOC Grafana dashboards from code: ``python grafana/build.py`` writes
``grafana/dashboards/*.json``; ``--check`` exits 1 when a committed file differs.

Why a builder and not hand-written JSON: every panel gets the same data source (the
``datasource`` template variable), time zone, ids and layout rules, and every PromQL
expression is checked against ``KNOWN_METRICS`` — the names the service exports on
``/metrics`` — when the dashboards are built. The words the boards share with the service
(severity levels, asset kinds, the SLA burn-rate table) come from ``noc.core.vocabulary``, so
a threshold on a board is the one the service alerts on. No network, nothing else imported.

Titles are Chinese (operators read Chinese); descriptions carry the English.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not __package__:  # run as a script: read the vocabulary of the checkout this file sits in
    sys.path.insert(0, str(HERE.parent))

from noc.core.vocabulary import (  # noqa: E402
    ASSET_KINDS,
    BURN_ALERTS,
    CIRCUIT_KINDS,
    KPI_INDICATORS,
    KPI_NAMES,
    KPI_TENDER_TARGETS,
    LEVEL_NAMES,
    LEVELS,
)

OUT_DIR = HERE / "dashboards"
SCHEMA_VERSION = 39  # Grafana 10.4 / 11
TIMEZONE = "Asia/Shanghai"
TAG = "hotline-noc"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# The dashboards' uids: what links to them use (the console's asset page, see asset_panels()).
OVERVIEW_UID = "hotline-noc-overview"
CIRCUITS_UID = "hotline-noc-circuits"
VOICE_UID = "hotline-noc-voice"
SLA_UID = "hotline-noc-sla"

# The only metric names a dashboard may use: what noc/metrics exports (listed in docs/grafana.md).
KNOWN_METRICS: frozenset[str] = frozenset(
    {
        # inventory and the service itself
        "noc_assets",
        "noc_checks",
        "noc_store_up",
        "noc_build_info",
        # probes (labels site, asset, kind, check)
        "noc_probe_up",
        "noc_probe_rtt_seconds",
        "noc_probe_loss_ratio",
        "noc_probe_jitter_seconds",
        "noc_probe_duration_seconds",
        "noc_probe_last_timestamp_seconds",
        "noc_sip_status_code",
        # interfaces (SNMP; base units: bytes, so a bit/s panel multiplies by 8)
        "noc_interface_rate_bytes_per_second",
        "noc_interface_utilisation_ratio",
        "noc_interface_contract_bytes_per_second",
        "noc_interface_oper_up",
        "noc_interface_bytes_total",
        "noc_interface_errors_total",
        "noc_interface_discards_total",
        # state and incidents
        "noc_check_state",
        "noc_asset_up",
        "noc_incidents_open",
        # alert delivery
        "noc_alert_delivery_attempts_total",
        "noc_alert_queue_depth",
        "noc_alert_oldest_undelivered_age_seconds",
        # SLA (current month and rolling 30 d)
        "noc_sla_availability_ratio",
        "noc_sla_failures",
        "noc_sla_mtbf_seconds",
        "noc_sla_mtbf_lower_bound",
        "noc_sla_mttr_seconds",
        "noc_sla_breaches",
        "noc_sla_error_budget_remaining_ratio",
        "noc_sla_response_timeliness_ratio",
        "noc_sla_alarm_delay_seconds",
        "noc_sla_burn_rate",
        "noc_sla_availability_objective_ratio",
        "noc_sla_mtbf_target_seconds",
        "noc_sla_mttr_target_seconds",
        "noc_sla_last_computed_timestamp_seconds",
        # operational KPIs and the scorecard (this Asia/Shanghai month so far; labels site, indicator)
        "noc_kpi_ratio",
        "noc_kpi_data_present",
        "noc_kpi_numerator",
        "noc_kpi_denominator",
        "noc_kpi_items",
        "noc_kpi_pending",
        "noc_kpi_target_ratio",
        "noc_kpi_score_points",
        "noc_kpi_max_points",
        "noc_kpi_scorecard_points",
        "noc_kpi_period_start_timestamp_seconds",
        "noc_kpi_last_computed_timestamp_seconds",
        "noc_kpi_computation_duration_seconds",
    }
)

PANEL_TYPES = ("timeseries", "stat", "gauge", "table", "state-timeline")
_METRIC_RE = re.compile(r"\bnoc_[a-z0-9_]+\b")

_CIRCUITS = "|".join(CIRCUIT_KINDS)  # a PromQL alternation
SIP_CHECKS = 'check!="icmp"'  # a voice asset's checks are ICMP plus SIP ones (sip, trunk …)


def metric_names(expr: str) -> set[str]:
    """The noc_* metric names a PromQL expression reads."""
    return set(_METRIC_RE.findall(expr))


# --- field config pieces -----------------------------------------------------------------------

UP_DOWN = [
    {
        "type": "value",
        "options": {
            "0": {"text": "故障 down", "color": "red", "index": 0},
            "1": {"text": "正常 up", "color": "green", "index": 1},
        },
    }
]
MTBF_BOUND = [
    {
        "type": "value",
        "options": {
            "0": {"text": "实测 measured", "color": "blue", "index": 0},
            "1": {"text": "≥ 下限 lower bound", "color": "purple", "index": 1},
        },
    }
]


def steps(base: str, *pairs: tuple[float, str]) -> dict[str, Any]:
    """Absolute thresholds: ``base`` colour below the first value, then each (value, colour)."""
    return {
        "mode": "absolute",
        "steps": [{"color": base, "value": None}, *({"color": c, "value": v} for v, c in pairs)],
    }


def target(
    expr: str, legend: str = "", *, instant: bool = False, table: bool = False
) -> dict[str, Any]:
    return {
        "expr": expr,
        "legendFormat": legend,
        "instant": instant or table,
        "range": not (instant or table),
        "format": "table" if table else "time_series",
        "editorMode": "code",
    }


class Panel:
    """One panel before layout: type, zh title, en description, targets, field config."""

    def __init__(
        self,
        kind: str,
        title: str,
        description: str,
        targets: list[dict[str, Any]],
        *,
        w: int = 6,
        h: int = 6,
        unit: str | None = None,
        thresholds: dict | None = None,
        mappings: list | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        decimals: int | None = None,
        options: dict | None = None,
        custom: dict | None = None,
        transformations: list | None = None,
        overrides: list | None = None,
        shows: Iterable[str] = (),
    ):
        """``shows``: the asset kinds one asset of which this panel shows (with the dashboard's
        ``asset_var`` set to it); the console links an asset's page to these panels."""
        if kind not in PANEL_TYPES:
            raise ValueError(f"panel {title!r}: type {kind!r} is not one of {PANEL_TYPES}")
        self.kind, self.title, self.description, self.targets = kind, title, description, targets
        self.w, self.h = w, h
        defaults: dict[str, Any] = {
            "mappings": mappings or [],
            "thresholds": thresholds or steps("green"),
        }
        for key, value in (
            ("unit", unit),
            ("min", minimum),
            ("max", maximum),
            ("decimals", decimals),
        ):
            if value is not None:
                defaults[key] = value
        defaults["color"] = (
            {"mode": "thresholds"}
            if kind in ("stat", "gauge", "state-timeline")
            else {"mode": "palette-classic"}
        )
        if custom:
            defaults["custom"] = custom
        self.field_config = {"defaults": defaults, "overrides": overrides or []}
        self.options = options if options is not None else _default_options(kind)
        self.transformations = transformations or []
        self.shows = tuple(shows)
        unknown = set(self.shows) - set(ASSET_KINDS)
        if unknown:
            raise ValueError(f"panel {title!r}: unknown asset kind(s) {sorted(unknown)}")


def _default_options(kind: str) -> dict[str, Any]:
    reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    legend = {
        "displayMode": "table",
        "placement": "right",
        "showLegend": True,
        "calcs": ["lastNotNull", "max"],
    }
    tooltip = {"mode": "multi", "sort": "desc"}
    return {
        "stat": {
            "reduceOptions": reduce,
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "auto",
            "justifyMode": "auto",
            "orientation": "auto",
            "wideLayout": True,
            "showPercentChange": False,
        },
        "gauge": {
            "reduceOptions": reduce,
            "orientation": "auto",
            "showThresholdLabels": False,
            "showThresholdMarkers": True,
            "minVizHeight": 75,
            "minVizWidth": 75,
            "sizing": "auto",
        },
        "timeseries": {"legend": legend, "tooltip": tooltip},
        "state-timeline": {
            "mergeValues": True,
            "showValue": "auto",
            "alignValue": "left",
            "rowHeight": 0.9,
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "single", "sort": "none"},
        },
        "table": {
            "showHeader": True,
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "fields": "", "countRows": False},
        },
    }[kind]


def stat(title: str, description: str, *targets: dict, **kw: Any) -> Panel:
    return Panel("stat", title, description, list(targets), **kw)


def gauge(title: str, description: str, *targets: dict, **kw: Any) -> Panel:
    return Panel("gauge", title, description, list(targets), **kw)


def series(title: str, description: str, *targets: dict, **kw: Any) -> Panel:
    kw.setdefault("w", 12)
    kw.setdefault("h", 8)
    kw.setdefault(
        "custom",
        {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 10,
            "showPoints": "never",
            "spanNulls": False,
            "axisSoftMin": 0,
        },
    )
    return Panel("timeseries", title, description, list(targets), **kw)


def timeline(title: str, description: str, *targets: dict, **kw: Any) -> Panel:
    kw.setdefault("w", 24)
    kw.setdefault("mappings", UP_DOWN)
    kw.setdefault("thresholds", steps("red", (1, "green")))
    kw.setdefault("custom", {"fillOpacity": 80, "lineWidth": 0})
    return Panel("state-timeline", title, description, list(targets), **kw)


def table(
    title: str,
    description: str,
    *targets: dict,
    hide: Iterable[str] = (),
    rename: dict | None = None,
    **kw: Any,
) -> Panel:
    kw.setdefault("w", 12)
    kw.setdefault("h", 8)
    excluded = {name: True for name in ("Time", "__name__", "job", "instance", *hide)}
    organize = {
        "id": "organize",
        "options": {"excludeByName": excluded, "renameByName": rename or {}},
    }
    transforms = [{"id": "merge", "options": {}}] if len(targets) > 1 else []
    kw["transformations"] = [*transforms, organize]
    return Panel("table", title, description, list(targets), **kw)


def _number(value: float) -> float | int:
    """``6.0`` → ``6``: the JSON shows a whole factor as a whole number."""
    return int(value) if float(value).is_integer() else value


def burn_stat(severity: str, short: str, long: str, factor: float) -> Panel:
    """One row of the multi-window burn-rate table (``noc.core.vocabulary.BURN_ALERTS``)."""
    factor = _number(factor)
    speed = "快速" if severity == "page" else "慢速"
    title = f"{speed}燃烧 {short}/{long}（{factor:g}×）"
    return stat(
        title,
        f"Sloth multi-window burn-rate condition: the budget burns faster than {factor}x over "
        f"both {short} and {long} when the smaller of the two is above {factor} (red).",
        target(
            f'min by (scope) (noc_sla_burn_rate{{site="$site", scope=~"$scope", lookback=~"{short}|{long}"}})',
            "{{scope}}",
        ),
        unit="suffix:×",
        decimals=2,
        thresholds=steps("green", (factor, "red")),
    )


# --- template variables -----------------------------------------------------------------------


def var_datasource() -> dict[str, Any]:
    return {
        "name": "datasource",
        "label": "数据源",
        "description": "Prometheus data source (provisioned UID).",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
    }


def var_query(
    name: str, label: str, description: str, query: str, *, multi: bool = False
) -> dict[str, Any]:
    var = {
        "name": name,
        "label": label,
        "description": description,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {
            "query": query,
            "refId": "PrometheusVariableQueryEditor-VariableQuery",
            "qryType": 1,
        },
        "refresh": 2,
        "sort": 1,
        "regex": "",
        "hide": 0,
        "options": [],
        "skipUrlSync": False,
        "multi": multi,
        "includeAll": multi,
        "current": {},
    }
    if multi:
        var["allValue"] = ".+"
        var["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return var


def var_custom(
    name: str, label: str, description: str, options: list[tuple[str, str]]
) -> dict[str, Any]:
    opts = [
        {"text": text, "value": value, "selected": i == 0}
        for i, (text, value) in enumerate(options)
    ]
    return {
        "name": name,
        "label": label,
        "description": description,
        "type": "custom",
        "query": ",".join(f"{text} : {value}" for text, value in options),
        "options": opts,
        "current": {"selected": True, "text": options[0][0], "value": options[0][1]},
        "hide": 0,
        "multi": False,
        "includeAll": False,
        "skipUrlSync": False,
    }


SITE = var_query("site", "站点", "Site (inventory site.name).", "label_values(noc_assets, site)")


# --- dashboards --------------------------------------------------------------------------------


def overview() -> tuple[dict, list[Panel]]:
    meta = {
        "uid": OVERVIEW_UID,
        "title": "NOC 运行总览",
        "description": "NOC overview: state of every asset, open incidents by severity, the alert queue.",
        "variables": [var_datasource(), SITE],
    }
    s = '{site="$site"}'
    panels = [
        stat("资产总数", "Assets in the inventory.", target(f"sum(noc_assets{s})"), w=4, h=4),
        stat(
            "在线资产", "Assets whose checks are all up.", target(f"sum(noc_asset_up{s})"), w=4, h=4
        ),
        stat(
            "故障资产",
            "Assets down now (red when any).",
            target(f"sum(1 - noc_asset_up{s})"),
            w=4,
            h=4,
            thresholds=steps("green", (1, "red")),
        ),
        stat(
            "未结故障（按级别）",
            f"Open incidents by severity level {LEVELS[0]} ({LEVEL_NAMES[LEVELS[0]][0]}) to "
            f"{LEVELS[-1]} ({LEVEL_NAMES[LEVELS[-1]][0]}).",
            target(f"sum by (severity) (noc_incidents_open{s})", "{{severity}} 级"),
            w=8,
            h=4,
            thresholds=steps("green", (1, "red")),
        ),
        stat(
            "事件库",
            "Event store health (1 = answering).",
            target("noc_store_up", "{{backend}}"),
            w=4,
            h=4,
            mappings=UP_DOWN,
            thresholds=steps("red", (1, "green")),
        ),
        timeline(
            "资产状态",
            "Up/down history of every asset (noc_asset_up).",
            target(f"noc_asset_up{s}", "{{asset}}"),
            h=14,
            shows=ASSET_KINDS,
        ),
        table(
            "检查当前状态",
            "Current state of every check (ok / degraded / down …).",
            target(f"max by (asset, kind, check, state) (noc_check_state{s} == 1)", table=True),
            hide=("Value",),
            rename={"asset": "资产", "kind": "类型", "check": "检查", "state": "状态"},
            shows=ASSET_KINDS,
        ),
        series(
            "未结故障趋势",
            "Open incidents by severity over time.",
            target(f"sum by (severity) (noc_incidents_open{s})", "{{severity}} 级"),
            decimals=0,
        ),
        stat(
            "告警队列深度",
            "Alert messages waiting for delivery, per receiver.",
            target("noc_alert_queue_depth", "{{receiver}}"),
            w=8,
            h=6,
            thresholds=steps("green", (1, "yellow"), (10, "red")),
        ),
        stat(
            "最久未送达告警",
            "Age of the oldest undelivered alert message, per receiver.",
            target("noc_alert_oldest_undelivered_age_seconds", "{{receiver}}"),
            w=8,
            h=6,
            unit="s",
            thresholds=steps("green", (60, "yellow"), (300, "red")),
        ),
        series(
            "告警投递（次/分钟）",
            "Alert delivery attempts per minute by receiver and outcome.",
            target(
                "60 * sum by (receiver, outcome) (rate(noc_alert_delivery_attempts_total[$__rate_interval]))",
                "{{receiver}} {{outcome}}",
            ),
            w=8,
            h=6,
        ),
    ]
    return meta, panels


def circuits() -> tuple[dict, list[Panel]]:
    circuit = var_query(
        "circuit",
        "线路",
        "Leased lines and the internet line.",
        f'label_values(noc_asset_up{{site="$site", kind=~"{_CIRCUITS}"}}, asset)',
        multi=True,
    )
    meta = {
        "uid": CIRCUITS_UID,
        "title": "专线与互联网线路",
        "description": "Circuits: bit rate and utilisation against the contracted bandwidth, loss, RTT, "
        "jitter, interface errors and discards.",
        "variables": [var_datasource(), SITE, circuit],
        "asset_var": ("circuit", "{asset}"),
    }
    # the kind filter matters on "All" (allValue .+): the CE router's own interfaces stay out
    sel = f'{{site="$site", kind=~"{_CIRCUITS}", asset=~"$circuit"'

    def rate(direction: str, zh: str) -> Panel:
        return series(
            f"{zh}速率与合同带宽",
            f"{direction.capitalize()} bit rate of each circuit's CE interface "
            "against its contracted bandwidth (dashed); the service exports bytes per second, "
            "shown here times 8 in bit/s as carriers state bandwidth.",
            target(
                f'8 * noc_interface_rate_bytes_per_second{sel}, direction="{direction}"}}',
                "{{asset}}",
            ),
            target(f"8 * noc_interface_contract_bytes_per_second{sel}}}", "{{asset}} 合同带宽"),
            unit="bps",
            shows=CIRCUIT_KINDS,
            overrides=[
                {
                    "matcher": {"id": "byRegexp", "options": ".*合同带宽"},
                    "properties": [
                        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                        {"id": "custom.fillOpacity", "value": 0},
                    ],
                }
            ],
        )

    panels = [
        timeline(
            "线路状态",
            "Up/down history of each circuit.",
            target(f"noc_asset_up{sel}}}", "{{asset}}"),
            h=6,
            shows=CIRCUIT_KINDS,
        ),
        rate("in", "入方向"),
        rate("out", "出方向"),
        gauge(
            "当前带宽利用率",
            "Highest of in/out utilisation of the contracted bandwidth.",
            target(f"max by (asset) (noc_interface_utilisation_ratio{sel}}})", "{{asset}}"),
            w=8,
            h=8,
            unit="percentunit",
            minimum=0,
            maximum=1,
            thresholds=steps("green", (0.7, "yellow"), (0.9, "red")),
        ),
        series(
            "带宽利用率",
            "Utilisation of the contracted bandwidth, per direction.",
            target(f"noc_interface_utilisation_ratio{sel}}}", "{{asset}} {{direction}}"),
            w=16,
            unit="percentunit",
            minimum=0,
            shows=CIRCUIT_KINDS,
        ),
        series(
            "丢包率",
            "ICMP packet loss to the far end of each circuit.",
            target(f"noc_probe_loss_ratio{sel}}}", "{{asset}}"),
            w=8,
            unit="percentunit",
            minimum=0,
            maximum=1,
            shows=CIRCUIT_KINDS,
        ),
        series(
            "往返时延",
            "Round-trip time (RTT) to the far end.",
            target(f"noc_probe_rtt_seconds{sel}}}", "{{asset}} {{check}}"),
            w=8,
            unit="s",
            shows=CIRCUIT_KINDS,
        ),
        series(
            "时延抖动",
            "Jitter of the round-trip time.",
            target(f"noc_probe_jitter_seconds{sel}}}", "{{asset}}"),
            w=8,
            unit="s",
            shows=CIRCUIT_KINDS,
        ),
        series(
            "接口错包与丢弃（每秒）",
            "Errored and discarded packets per second on each circuit's CE interface, per "
            "direction, from the interface counters (ifInErrors, ifInDiscards …).",
            target(
                f"sum by (asset, direction) (rate(noc_interface_errors_total{sel}}}"
                "[$__rate_interval]))",
                "{{asset}} 错包 errors {{direction}}",
            ),
            target(
                f"sum by (asset, direction) (rate(noc_interface_discards_total{sel}}}"
                "[$__rate_interval]))",
                "{{asset}} 丢弃 discards {{direction}}",
            ),
            w=24,
            unit="pps",
            minimum=0,
        ),
        table(
            "接口运行状态",
            "Operational status of each circuit's CE interface (1 = up).",
            target(f"noc_interface_oper_up{sel}}}", table=True),
            w=24,
            h=6,
            mappings=UP_DOWN,
            hide=("site",),
            rename={
                "asset": "线路",
                "kind": "类型",
                "check": "检查",
                "interface": "接口",
                "Value": "运行状态",
            },
        ),
    ]
    return meta, panels


def voice() -> tuple[dict, list[Panel]]:
    meta = {
        "uid": VOICE_UID,
        "title": "语音网关与办公固话",
        "description": "Voice: the voice gateway (SIP, provincial trunk) and the 19 office phones: "
        "SIP up, last status code, RTT.",
        "variables": [var_datasource(), SITE],
    }
    gw = '{site="$site", kind="voice_gateway"'
    ph = '{site="$site", kind="phone"'
    code_map = [
        {
            "type": "range",
            "options": {"from": 200, "to": 299, "result": {"color": "green", "index": 0}},
        },
        {
            "type": "range",
            "options": {"from": 300, "to": 699, "result": {"color": "red", "index": 1}},
        },
    ]
    panels = [
        stat(
            "语音网关",
            "Voice gateway asset state.",
            target(f"noc_asset_up{gw}}}", "{{asset}}"),
            w=6,
            h=5,
            mappings=UP_DOWN,
            thresholds=steps("red", (1, "green")),
            shows=("voice_gateway",),
        ),
        stat(
            "网关 SIP 检查",
            "Gateway SIP checks (OPTIONS to the gateway, and its trunk to the province).",
            target(f"noc_probe_up{gw}, {SIP_CHECKS}}}", "{{check}}"),
            w=6,
            h=5,
            mappings=UP_DOWN,
            thresholds=steps("red", (1, "green")),
        ),
        stat(
            "网关 SIP 响应码",
            "Last SIP status code per gateway SIP check (2xx green).",
            target(f"noc_sip_status_code{gw}}}", "{{check}}"),
            w=6,
            h=5,
            shows=("voice_gateway",),
            mappings=code_map,
            decimals=0,
            thresholds=steps("red", (200, "green"), (300, "red")),
        ),
        stat(
            "网关 SIP 时延",
            "SIP OPTIONS round-trip time of the gateway checks.",
            target(f"noc_probe_rtt_seconds{gw}, {SIP_CHECKS}}}", "{{check}}"),
            w=6,
            h=5,
            unit="s",
            thresholds=steps("green", (0.2, "yellow"), (1, "red")),
        ),
        stat(
            "SIP 在线固话",
            "Office phones answering SIP OPTIONS.",
            target(f"sum(noc_probe_up{ph}, {SIP_CHECKS}}})"),
            w=6,
            h=5,
            decimals=0,
        ),
        stat(
            "SIP 离线固话",
            "Office phones not answering SIP OPTIONS (red when any).",
            target(f"sum(1 - noc_probe_up{ph}, {SIP_CHECKS}}})"),
            w=6,
            h=5,
            decimals=0,
            thresholds=steps("green", (1, "red")),
        ),
        series(
            "网关 SIP 时延趋势",
            "SIP round-trip time of the gateway checks over time.",
            target(f"noc_probe_rtt_seconds{gw}, {SIP_CHECKS}}}", "{{check}}"),
            unit="s",
            h=5,
            shows=("voice_gateway",),
        ),
        timeline(
            "固话 SIP 状态",
            "SIP up/down history of each office phone.",
            target(f"noc_probe_up{ph}, {SIP_CHECKS}}}", "{{asset}}"),
            h=12,
            shows=("phone",),
        ),
        table(
            "固话明细",
            "Per phone: SIP up, last SIP status code, SIP RTT, seconds since the last probe.",
            target(f"noc_probe_up{ph}, {SIP_CHECKS}}}", table=True),
            target(f"noc_sip_status_code{ph}}}", table=True),
            target(f"noc_probe_rtt_seconds{ph}, {SIP_CHECKS}}}", table=True),
            target(f"time() - noc_probe_last_timestamp_seconds{ph}, {SIP_CHECKS}}}", table=True),
            w=24,
            h=12,
            hide=("site", "kind"),
            rename={
                "asset": "固话",
                "check": "检查",
                "Value #A": "SIP 在线",
                "Value #B": "SIP 响应码",
                "Value #C": "SIP 时延 (s)",
                "Value #D": "距上次探测 (s)",
            },
            shows=("phone",),
        ),
        series(
            "固话 SIP 时延",
            "SIP OPTIONS round-trip time per phone.",
            target(f"noc_probe_rtt_seconds{ph}, {SIP_CHECKS}}}", "{{asset}}"),
            unit="s",
            shows=("phone",),
        ),
        series(
            "固话 ICMP 丢包",
            "ICMP loss per phone.",
            target(f"noc_probe_loss_ratio{ph}}}", "{{asset}}"),
            unit="percentunit",
            minimum=0,
            maximum=1,
            shows=("phone",),
        ),
    ]
    return meta, panels


def sla() -> tuple[dict, list[Panel]]:
    scope = var_query(
        "scope",
        "范围",
        "SLA scope: site:NAME, service:NAME or asset:NAME.",
        'label_values(noc_sla_availability_ratio{site="$site"}, scope)',
        multi=True,
    )
    window = var_custom(
        "window",
        "统计窗口",
        "Current Asia/Shanghai calendar month, or the rolling 30 days.",
        [("本月", "month"), ("近30天", "30d")],
    )
    meta = {
        "uid": SLA_UID,
        "title": "SLA 考核看板",
        "description": "SLA board: availability against the objective, MTBF against 600 h, MTTR against "
        "15 min (automatic) and 24 h (manual), breaches, error budget left and burn rates.",
        "variables": [var_datasource(), SITE, scope, window],
        "asset_var": ("scope", "asset:{asset}"),
    }
    w = '{site="$site", scope=~"$scope", window="$window"'
    t = '{site="$site"}'
    panels = [
        stat(
            "可用率目标",
            "Availability objective from the config (sla section).",
            target(f"noc_sla_availability_objective_ratio{t}"),
            unit="percentunit",
            decimals=3,
            thresholds=steps("blue"),
        ),
        stat(
            "MTBF 目标",
            "Contract MTBF target (600 h).",
            target(f"noc_sla_mtbf_target_seconds{t} / 3600"),
            unit="h",
            thresholds=steps("blue"),
        ),
        stat(
            "MTTR 目标",
            "Recovery targets: automatic 15 min, manual 24 h.",
            target(f"noc_sla_mttr_target_seconds{t} / 60", "{{recovery}}"),
            unit="m",
            thresholds=steps("blue"),
        ),
        stat(
            "距上次计算",
            "Seconds since the SLA figures were last computed (stale when red).",
            target(f"time() - noc_sla_last_computed_timestamp_seconds{t}"),
            unit="s",
            thresholds=steps("green", (300, "yellow"), (900, "red")),
        ),
        gauge(
            "可用率",
            "Availability in the window (operating time minus outage / operating time).",
            target(f"noc_sla_availability_ratio{w}}}", "{{scope}}"),
            w=8,
            h=7,
            shows=ASSET_KINDS,
            unit="percentunit",
            decimals=3,
            minimum=0.99,
            maximum=1,
            thresholds=steps("red", (0.995, "yellow"), (0.999, "green")),
        ),
        stat(
            "可用率与目标之差",
            "Availability minus the objective: negative (red) is below the objective.",
            target(
                f"noc_sla_availability_ratio{w}}} - on (site) group_left () "
                f"noc_sla_availability_objective_ratio{t}",
                "{{scope}}",
            ),
            w=8,
            h=7,
            unit="percentunit",
            decimals=4,
            thresholds=steps("red", (0, "green")),
        ),
        gauge(
            "剩余错误预算",
            "Error budget left in the window (1 = untouched, 0 = spent).",
            target(f"noc_sla_error_budget_remaining_ratio{w}}}", "{{scope}}"),
            w=8,
            h=7,
            unit="percentunit",
            minimum=0,
            maximum=1,
            thresholds=steps("red", (0.25, "yellow"), (0.5, "green")),
        ),
        # the contract says MTBF must *exceed* 600 h: exactly 600 h stays red (a second over is 600.00028 h)
        gauge(
            "平均无故障时间 MTBF",
            "MTBF = operating time / failures (level I-III); green only above 600 h. "
            "With no failure it is a lower bound (see the next panel).",
            target(f"noc_sla_mtbf_seconds{w}}} / 3600", "{{scope}}"),
            w=5,
            h=7,
            unit="h",
            minimum=0,
            thresholds=steps("red", (600.0001, "green")),
        ),
        stat(
            "MTBF 为下限",
            "1 (≥) when the window had no failure: MTBF is then at least the operating time, "
            "a lower bound rather than a measured mean.",
            target(f"noc_sla_mtbf_lower_bound{w}}}", "{{scope}}"),
            w=3,
            h=7,
            decimals=0,
            mappings=MTBF_BOUND,
            thresholds=steps("blue"),
        ),
        stat(
            "MTBF 达标比",
            "MTBF divided by its target: 100 % or below (red) misses the contract (it must exceed).",
            target(
                f"noc_sla_mtbf_seconds{w}}} / on (site) group_left () noc_sla_mtbf_target_seconds{t}",
                "{{scope}}",
            ),
            w=8,
            h=7,
            unit="percentunit",
            thresholds=steps("red", (1.0000001, "green")),
        ),
        stat(
            "故障次数",
            "Failures (incidents of level I-III) in the window.",
            target(f"noc_sla_failures{w}}}", "{{scope}}"),
            w=8,
            h=7,
            decimals=0,
            thresholds=steps("green", (1, "yellow")),
        ),
        gauge(
            "自动恢复 MTTR",
            "Mean time to recover, automatic recoveries, against 15 min (red above).",
            target(f'noc_sla_mttr_seconds{w}, recovery="automatic"}} / 60', "{{scope}}"),
            w=8,
            h=7,
            unit="m",
            minimum=0,
            maximum=30,
            thresholds=steps("green", (15, "red")),
        ),
        gauge(
            "手工恢复 MTTR",
            "Mean time to recover, manual recoveries, against 24 h (red above).",
            target(f'noc_sla_mttr_seconds{w}, recovery="manual"}} / 3600', "{{scope}}"),
            w=8,
            h=7,
            unit="h",
            minimum=0,
            maximum=48,
            thresholds=steps("green", (24, "red")),
        ),
        stat(
            "恢复超时次数",
            "Recoveries over their target (breaches), automatic and manual.",
            target(f"sum by (scope, recovery) (noc_sla_breaches{w}}})", "{{scope}} {{recovery}}"),
            w=8,
            h=7,
            decimals=0,
            thresholds=steps("green", (1, "red")),
        ),
        table(
            "MTTR 与目标对比",
            "Mean time to recover divided by its target, per scope and recovery kind "
            "(above 1 misses the target).",
            target(
                f"noc_sla_mttr_seconds{w}}} / on (site, recovery) group_left () "
                f"noc_sla_mttr_target_seconds{t}",
                table=True,
            ),
            w=8,
            h=7,
            unit="percentunit",
            thresholds=steps("green", (1, "red")),
            hide=("site", "window"),
            rename={"scope": "范围", "recovery": "恢复方式", "Value": "MTTR/目标"},
        ),
        stat(
            "故障响应及时率",
            "Incidents acknowledged within their runbook deadline (平台故障响应及时率).",
            target(f"noc_sla_response_timeliness_ratio{w}}}", "{{scope}}"),
            w=8,
            h=7,
            unit="percentunit",
            thresholds=steps("red", (0.95, "green")),
        ),
        stat(
            "告警时延",
            "Alarm delay, fault start to first delivered alert: median (stat p50) and max.",
            target(f"noc_sla_alarm_delay_seconds{w}}}", "{{scope}} {{stat}}"),
            w=8,
            h=7,
            unit="s",
            thresholds=steps("green", (60, "yellow"), (300, "red")),
        ),
        *(burn_stat(*alert) for alert in BURN_ALERTS),
        series(
            "错误预算燃烧率",
            "Error-budget burn rate per look-back window (1 = spending exactly the budget).",
            target('noc_sla_burn_rate{site="$site", scope=~"$scope"}', "{{scope}} {{lookback}}"),
            w=24,
            unit="suffix:×",
            custom={
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 0,
                "showPoints": "never",
                "spanNulls": False,
                "thresholdsStyle": {"mode": "line"},
            },
            thresholds=steps(
                "green",
                (_number(min(a.factor for a in BURN_ALERTS)), "yellow"),
                (_number(min(a.factor for a in BURN_ALERTS if a.severity == "page")), "orange"),
                (_number(max(a.factor for a in BURN_ALERTS)), "red"),
            ),
        ),
        series(
            "可用率趋势",
            "Availability in the window over time.",
            target(f"noc_sla_availability_ratio{w}}}", "{{scope}}"),
            unit="percentunit",
            decimals=3,
            shows=ASSET_KINDS,
        ),
        series(
            "剩余错误预算趋势",
            "Error budget left over time.",
            target(f"noc_sla_error_budget_remaining_ratio{w}}}", "{{scope}}"),
            unit="percentunit",
            minimum=0,
            maximum=1,
        ),
    ]
    return meta, panels


# one line per KPI in a multi-series panel: the series (legend {{indicator}}) shown by its name
KPI_DISPLAY_NAMES = [
    {
        "matcher": {"id": "byName", "options": indicator},
        "properties": [{"id": "displayName", "value": KPI_NAMES[indicator][0]}],
    }
    for indicator in KPI_INDICATORS
]
KPI_VALUE_NAMES = [
    {
        "type": "value",
        "options": {
            indicator: {"text": f"{zh} {en}", "index": i}
            for i, (indicator, (zh, en)) in enumerate(KPI_NAMES.items())
        },
    }
]
NO_DATA = [
    {
        "type": "value",
        "options": {
            "0": {"text": "无数据 no data", "color": "orange", "index": 0},
            "1": {"text": "有数据", "color": "green", "index": 1},
        },
    }
]


def kpi_gauge(indicator: str, what: str) -> Panel:
    """One rate indicator's month-to-date gauge; green from the tender's target."""
    zh, en = KPI_NAMES[indicator]
    goal = KPI_TENDER_TARGETS[indicator]
    return gauge(
        zh,
        f"{en.capitalize()}: {what}, this Asia/Shanghai month so far (docs/kpi.md). Empty when "
        "there is no data yet (noc_kpi_data_present 0): no data is never shown as 0 or as met. "
        f"Green from the tender's target {goal:.0%}; 达标差距 compares with the configured one.",
        target(f'noc_kpi_ratio{{site="$site", indicator="{indicator}"}}'),
        w=4,
        h=7,
        unit="percentunit",
        decimals=1,
        minimum=0,
        maximum=1,
        thresholds=steps("red", (goal, "green")),
    )


def kpi() -> tuple[dict, list[Panel]]:
    meta = {
        "uid": "hotline-noc-kpi",
        "title": "运营考核",
        "description": "Operational KPIs and the 100 + 5 scorecard (考核标准) of the current "
        "Asia/Shanghai month so far, site scope, as noc kpi report and noc scorecard compute them "
        "(refreshed every 5 minutes; docs/kpi.md).",
        "variables": [var_datasource(), SITE],
    }
    s = '{site="$site"}'

    def part(name: str) -> str:
        return f'noc_kpi_scorecard_points{{site="$site", part="{name}"}}'

    panels = [
        stat(
            "本月总分",
            "Scorecard total this month so far: base (of 100) plus bonus (of 5), by the "
            "configured rules (kpi section).",
            target(part("total")),
            w=4,
            h=4,
            decimals=2,
            thresholds=steps("blue"),
        ),
        stat(
            "基础分",
            "Points of the ten scored indicators (of 100; scaled when a rule leaves one out).",
            target(part("base")),
            w=4,
            h=4,
            decimals=2,
            thresholds=steps("blue"),
        ),
        stat(
            "奖励分",
            "Commendations (表扬, 锦旗): +1 each, at most 5.",
            target(part("bonus")),
            w=4,
            h=4,
            decimals=0,
            maximum=5,
            thresholds=steps("blue"),
        ),
        stat(
            "无数据指标",
            "Indicators without data this month so far (a rate whose denominator is 0): scored "
            "by their no_data rule, never shown as met.",
            target(f"sum(1 - noc_kpi_data_present{s})"),
            w=4,
            h=4,
            decimals=0,
            thresholds=steps("green", (1, "orange")),
        ),
        stat(
            "距上次计算",
            "Seconds since the KPI figures were last computed (every 5 minutes; stale when red).",
            target(f"time() - noc_kpi_last_computed_timestamp_seconds{s}"),
            w=4,
            h=4,
            unit="s",
            thresholds=steps("green", (900, "yellow"), (1800, "red")),
        ),
        stat(
            "计算耗时",
            "How long the last computation of the month's figures took (it runs off the "
            "service's event loop).",
            target(f"noc_kpi_computation_duration_seconds{s}"),
            w=4,
            h=4,
            unit="s",
            decimals=2,
            thresholds=steps("green", (30, "yellow"), (120, "red")),
        ),
        kpi_gauge("answer_rate", "calls answered / calls offered to an agent"),
        kpi_gauge("spot_check", "spot checks passed (合格) / spot checks"),
        kpi_gauge("instant_answer", "enquiries answered at once / enquiries"),
        kpi_gauge("callback_on_time", "callbacks within 24 h of closing / closings due"),
        kpi_gauge("satisfaction", "satisfied (and basically satisfied) / rated tickets"),
        kpi_gauge("platform_faults", "incidents acknowledged in time / incidents"),
        stat(
            "各项得分",
            "Points per indicator this month so far, by the configured rules (a rule that "
            "leaves an indicator out shows nothing for it).",
            target(f"noc_kpi_score_points{s}", "{{indicator}}"),
            w=12,
            h=7,
            decimals=2,
            thresholds=steps("blue"),
            overrides=KPI_DISPLAY_NAMES,
        ),
        stat(
            "达标差距",
            "Rate indicators: the figure minus its configured target (kpi.targets), in "
            "percentage points; red below the target. Indicators without data are absent.",
            target(
                f"noc_kpi_ratio{s} - on (site, indicator) noc_kpi_target_ratio{s}",
                "{{indicator}}",
            ),
            w=12,
            h=7,
            unit="percentunit",
            decimals=2,
            thresholds=steps("red", (-0.000001, "green")),
            overrides=KPI_DISPLAY_NAMES,
        ),
        stat(
            "扣分项 / 表扬",
            "Items counted this month so far: justified complaints, overdue vacancies, late, "
            "missing or corrected reports, emergencies responded to late; and commendations.",
            target(f"noc_kpi_items{s}", "{{indicator}}"),
            w=12,
            h=6,
            decimals=0,
            thresholds=steps("green", (1, "red")),
            overrides=[
                *KPI_DISPLAY_NAMES,
                {
                    "matcher": {"id": "byName", "options": "commendations"},
                    "properties": [{"id": "thresholds", "value": steps("blue")}],
                },
            ],
        ),
        stat(
            "待定（未到期）",
            "Records not yet due: a callback within its 24 h, a report before its day, an "
            "emergency or fault within its response time. Neither met nor failed yet.",
            target(f"noc_kpi_pending{s}", "{{indicator}}"),
            w=12,
            h=6,
            decimals=0,
            thresholds=steps("blue"),
            overrides=KPI_DISPLAY_NAMES,
        ),
        table(
            "指标明细",
            "Each indicator this month so far: figure, numerator, denominator, items, pending, "
            "points, and whether it has data (noc kpi report shows the records behind each).",
            target(f"noc_kpi_ratio{s}", table=True),
            target(f"noc_kpi_numerator{s}", table=True),
            target(f"noc_kpi_denominator{s}", table=True),
            target(f"noc_kpi_items{s}", table=True),
            target(f"noc_kpi_pending{s}", table=True),
            target(f"noc_kpi_score_points{s}", table=True),
            target(f"noc_kpi_max_points{s}", table=True),
            target(f"noc_kpi_data_present{s}", table=True),
            w=24,
            h=10,
            hide=("site",),
            rename={
                "indicator": "指标",
                "Value #A": "比率",
                "Value #B": "分子",
                "Value #C": "分母",
                "Value #D": "项数",
                "Value #E": "待定",
                "Value #F": "得分",
                "Value #G": "分值",
                "Value #H": "有数据",
            },
            mappings=KPI_VALUE_NAMES,
            overrides=[
                {
                    "matcher": {"id": "byName", "options": "比率"},
                    "properties": [
                        {"id": "unit", "value": "percentunit"},
                        {"id": "decimals", "value": 2},
                    ],
                },
                {
                    "matcher": {"id": "byName", "options": "有数据"},
                    "properties": [{"id": "mappings", "value": NO_DATA}],
                },
            ],
        ),
        series(
            "指标走势",
            "Each rate indicator this month so far, over time (the month starts again on the 1st).",
            target(f"noc_kpi_ratio{s}", "{{indicator}}"),
            unit="percentunit",
            minimum=0,
            maximum=1,
            overrides=KPI_DISPLAY_NAMES,
        ),
        series(
            "总分走势",
            "The scorecard this month so far, over time: base, bonus and total.",
            target(f"noc_kpi_scorecard_points{s}", "{{part}}"),
            minimum=0,
        ),
    ]
    return meta, panels


DASHBOARDS: dict[str, Callable[[], tuple[dict, list[Panel]]]] = {
    "noc-overview.json": overview,
    "circuits.json": circuits,
    "voice.json": voice,
    "sla.json": sla,
    "kpi.json": kpi,
}


# --- assembly ----------------------------------------------------------------------------------


def _layout(panels: list[Panel]) -> list[dict[str, Any]]:
    """Left-to-right rows on Grafana's 24-column grid, ids 1..n, every target on the datasource variable."""
    out, x, y, row_h = [], 0, 0, 0
    for pid, p in enumerate(panels, start=1):
        if x + p.w > 24:
            x, y, row_h = 0, y + row_h, 0
        targets = [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, **t}
            for i, t in enumerate(p.targets)
        ]
        panel = {
            "id": pid,
            "type": p.kind,
            "title": p.title,
            "description": p.description,
            "datasource": DATASOURCE,
            "gridPos": {"h": p.h, "w": p.w, "x": x, "y": y},
            "fieldConfig": p.field_config,
            "options": p.options,
            "targets": targets,
        }
        if p.transformations:
            panel["transformations"] = p.transformations
        out.append(panel)
        x, row_h = x + p.w, max(row_h, p.h)
    return out


def _check_metrics(uid: str, panels: list[dict[str, Any]], variables: list[dict[str, Any]]) -> None:
    exprs = [(f"panel {p['title']!r}", t["expr"]) for p in panels for t in p["targets"]]
    exprs += [
        (f"variable {v['name']!r}", v["definition"]) for v in variables if v["type"] == "query"
    ]
    for where, expr in exprs:
        unknown = metric_names(expr) - KNOWN_METRICS
        if unknown:
            raise ValueError(
                f"{uid}: {where} uses metric(s) the service does not export: {sorted(unknown)}"
            )


def dashboard(meta: dict[str, Any], panels: list[Panel]) -> dict[str, Any]:
    laid = _layout(panels)
    _check_metrics(meta["uid"], laid, meta["variables"])
    return {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": meta["description"],
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [
            {
                "asDropdown": False,
                "icon": "external link",
                "includeVars": True,
                "keepTime": True,
                "tags": [TAG],
                "targetBlank": False,
                "title": "hotline NOC",
                "type": "dashboards",
            }
        ],
        "liveNow": False,
        "panels": laid,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": [TAG],
        "templating": {"list": meta["variables"]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": TIMEZONE,
        "title": meta["title"],
        "uid": meta["uid"],
        "version": 1,
        "weekStart": "monday",
    }


def build_all() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON model."""
    return {name: dashboard(*make()) for name, make in DASHBOARDS.items()}


@dataclass(frozen=True)
class PanelLink:
    """A panel that shows one asset of some kinds: where the console links that asset's page."""

    uid: str
    dashboard: str  # the dashboard's title
    panel_id: int
    title: str
    kinds: tuple[str, ...]
    variable: str | None  # the template variable that selects one asset (None: none needed)
    value: str  # its value, ``{asset}`` standing for the asset's name

    def query(self, site: str, asset: str) -> dict[str, str]:
        """The URL query that opens this panel on ``asset`` of ``site``."""
        out = {"var-site": site}
        if self.variable:
            out[f"var-{self.variable}"] = self.value.format(asset=asset)
        out["viewPanel"] = str(self.panel_id)
        return out


def asset_panels() -> list[PanelLink]:
    """Every panel built with ``shows``, with the id its dashboard's layout gives it."""
    links = []
    for make in DASHBOARDS.values():
        meta, panels = make()
        variable, value = meta.get("asset_var", (None, ""))
        for panel, laid in zip(panels, _layout(panels), strict=True):
            if panel.shows:
                links.append(
                    PanelLink(
                        meta["uid"],
                        meta["title"],
                        laid["id"],
                        laid["title"],
                        panel.shows,
                        variable,
                        value,
                    )
                )
    return links


def render(model: dict[str, Any]) -> str:
    return json.dumps(model, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) grafana/dashboards/*.json.")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a committed dashboard differs"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    stale = []
    for name, model in build_all().items():
        path = args.out / name
        text = render(model)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python grafana/build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
