"""The in-memory snapshot behind ``/metrics``: probe results, check states, open incidents,
SLA and KPI figures, updated as they happen, read at scrape time. Pure: no I/O, no clock.

Why it renders on write: a scrape at 1,000 assets is some 60,000 samples, and
``prometheus_client.generate_latest`` spends ~8 µs formatting each one (sorting and escaping
labels per sample), several times the 50 ms a scrape may cost. Here each series' exposition
line is rendered when its value changes (a few per probe result, a few hundred per second
at most) with its label text rendered once, so a scrape only joins ready strings
(:meth:`MetricsSnapshot.render`). The same families are also a prometheus_client collector
(:meth:`MetricsSnapshot.collect` yields ``GaugeMetricFamily``/``CounterMetricFamily``
objects) for anything that reads the registry the ordinary way; both views come from the same
dictionaries.

Names follow Prometheus conventions (``promtool check metrics`` is clean): base units (bytes,
seconds, ratios; interface rates in bytes per second, not bits), and ``_total`` counters for
what only grows: interface octets, errors and discards are counters fed from the device's
SNMP counters through :class:`~noc.metrics.counters.CounterTotals`, which never go backwards
across agent restarts and counter resets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.utils import floatToGoString

from kpi.gauges import KpiSnapshot
from noc.core.vocabulary import LEVELS, RECOVERY_KINDS
from noc.metrics.counters import CounterTotals
from probes.base import ProbeResult
from probes.kind import CounterReading, Gauges, no_gauges
from probes.probeset import KINDS
from sla.gauges import SlaSnapshot

# one-hot over these; a flapping check shows "flapping" (the incident layer holds it open
# through the flaps), otherwise its health state in lower case
CHECK_STATES = ("unknown", "up", "degraded", "down", "flapping")
CHECK_LABELS = ("site", "asset", "kind", "check")
# a probe kind's interface figures (probes.kind.Gauges.interfaces) → (family, direction)
_RATE_VALUES = {
    "in_bytes_per_second": ("rate", "in"),
    "out_bytes_per_second": ("rate", "out"),
    "in_utilisation_ratio": ("util", "in"),
    "out_utilisation_ratio": ("util", "out"),
    "oper_up": ("oper", ""),
}
# its device counters (probes.kind.Gauges.counters) → (family, direction)
_COUNTER_VALUES = {
    "in_octets": ("bytes", "in"),
    "out_octets": ("bytes", "out"),
    "in_errors": ("errors", "in"),
    "out_errors": ("errors", "out"),
    "in_discards": ("discards", "in"),
    "out_discards": ("discards", "out"),
}
# the SLA's alarm-delay statistics (sla.gauges keys) → the label value (a gauge must not
# carry a "quantile" label: that one belongs to summaries)
_ALARM_DELAY_STATS = {"0.5": "p50", "1": "max"}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class GaugeFamily:
    """One gauge family: label values → value, plus each series' rendered exposition line."""

    __slots__ = ("name", "documentation", "label_names", "header", "_values", "_lines", "_prefix")
    TYPE = "gauge"

    def __init__(self, name: str, documentation: str, label_names: tuple[str, ...]):
        self.name = name
        self.documentation = documentation
        self.label_names = label_names
        doc = documentation.replace("\\", r"\\").replace("\n", r"\n")
        self.header = f"# HELP {name} {doc}\n# TYPE {name} {self.TYPE}\n"
        self._values: dict[tuple[str, ...], float] = {}
        self._lines: dict[tuple[str, ...], str] = {}
        self._prefix: dict[tuple[str, ...], str] = {}

    def _render_prefix(self, labels: tuple[str, ...]) -> str:
        if len(labels) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {labels!r}")
        text = ",".join(
            f'{n}="{_escape(v)}"' for n, v in zip(self.label_names, labels, strict=True)
        )
        prefix = self._prefix[labels] = f"{self.name}{{{text}}} "
        return prefix

    def _line(self, labels: tuple[str, ...], value: float) -> str:
        prefix = self._prefix.get(labels) or self._render_prefix(labels)
        return prefix + floatToGoString(value) + "\n"

    def set(self, labels: tuple[str, ...], value: float) -> None:
        value = float(value)
        self._values[labels] = value
        self._lines[labels] = self._line(labels, value)

    def remove(self, labels: tuple[str, ...]) -> None:
        self._values.pop(labels, None)
        self._lines.pop(labels, None)
        self._prefix.pop(labels, None)

    def replace(self, items: Iterable[tuple[tuple[str, ...], float]]) -> None:
        """Set exactly these series; the others are dropped (their label text kept if they return)."""
        values: dict[tuple[str, ...], float] = {}
        lines: dict[tuple[str, ...], str] = {}
        for labels, value in items:
            values[labels] = value = float(value)
            lines[labels] = self._line(labels, value)
        for stale in self._prefix.keys() - values.keys():
            del self._prefix[stale]
        self._values, self._lines = values, lines

    def get(self, labels: tuple[str, ...]) -> float | None:
        return self._values.get(labels)

    def __len__(self) -> int:
        return len(self._values)

    def render(self, out: list[str]) -> None:
        out.append(self.header)
        out.extend(self._lines.values())

    def family(self) -> GaugeMetricFamily:
        fam = self.empty()
        for labels, value in self._values.items():
            fam.add_metric(labels, value)
        return fam

    def empty(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.documentation, labels=list(self.label_names))


class CounterFamily(GaugeFamily):
    """A counter family (its name ends in ``_total``): set only to totals that never go down."""

    __slots__ = ()
    TYPE = "counter"

    def __init__(self, name: str, documentation: str, label_names: tuple[str, ...]):
        if not name.endswith("_total"):
            raise ValueError(f"counter {name!r} must end in _total")
        super().__init__(name, documentation, label_names)

    def empty(self) -> CounterMetricFamily:
        # prometheus_client names the family without _total and its samples with it
        return CounterMetricFamily(
            self.name.removesuffix("_total"), self.documentation, labels=list(self.label_names)
        )


@dataclass(frozen=True, slots=True)
class _Check:
    labels: tuple[str, str, str, str]  # site, asset, kind, check
    check_type: str
    gauges: Callable[[ProbeResult], Gauges]  # the probe kind's figures of a result


class MetricsSnapshot:
    """Every scrape-time value of the service, as gauge families keyed by their label values."""

    def __init__(self, site: str):
        self.site = site
        F = GaugeFamily  # noqa: N806 - a short alias keeps the table below readable
        c, i = CHECK_LABELS, (*CHECK_LABELS, "interface")
        s, w = ("site", "scope"), ("site", "scope", "window")
        self.probe_up = F("noc_probe_up", "1 if the last probe of the check succeeded, else 0.", c)
        self.rtt = F(
            "noc_probe_rtt_seconds",
            "Average round-trip time of the last ICMP probe; SIP: response time.",
            c,
        )
        self.loss = F("noc_probe_loss_ratio", "Packet loss of the last ICMP probe (0..1).", c)
        self.jitter = F(
            "noc_probe_jitter_seconds", "Jitter (mean |RTT difference|) of the last ICMP probe.", c
        )
        self.duration = F(
            "noc_probe_duration_seconds", "How long the last probe of the check took.", c
        )
        self.last_ts = F(
            "noc_probe_last_timestamp_seconds",
            "When the last probe of the check started (Unix time).",
            c,
        )
        self.sip_status = F(
            "noc_sip_status_code",
            "Final SIP status code of the last OPTIONS probe; 0 when none came.",
            c,
        )
        self.if_rate = F(
            "noc_interface_rate_bytes_per_second",
            "Interface traffic in bytes per second (x8 for bit/s), from the last two SNMP polls.",
            (*i, "direction"),
        )
        self.if_util = F(
            "noc_interface_utilisation_ratio",
            "Interface traffic over the contracted bandwidth (else ifHighSpeed), 0..1.",
            (*i, "direction"),
        )
        self.if_contract = F(
            "noc_interface_contract_bytes_per_second",
            "Contracted bandwidth of the circuit in bytes per second (x8 for bit/s; inventory).",
            ("site", "asset", "kind", "interface"),
        )
        C = CounterFamily  # noqa: N806
        self.if_bytes = C(
            "noc_interface_bytes_total",
            "Octets through the interface (ifHCInOctets/ifHCOutOctets) since the service first "
            "read it; agent restarts and counter resets never take it backwards.",
            (*i, "direction"),
        )
        self.if_errors = C(
            "noc_interface_errors_total",
            "Errored packets on the interface (ifInErrors/ifOutErrors) since the service first "
            "read it; agent restarts and counter resets never take it backwards.",
            (*i, "direction"),
        )
        self.if_discards = C(
            "noc_interface_discards_total",
            "Discarded packets on the interface (ifInDiscards/ifOutDiscards) since the service "
            "first read it; agent restarts and counter resets never take it backwards.",
            (*i, "direction"),
        )
        self.if_oper = F(
            "noc_interface_oper_up", "1 if the interface's ifOperStatus is up, else 0.", i
        )
        self.check_state = F(
            "noc_check_state", "1 for the check's current state, 0 for the others.", (*c, "state")
        )
        self.asset_up = F(
            "noc_asset_up", "1 if no check of the asset is down, else 0.", ("site", "asset", "kind")
        )
        self.incidents = F(
            "noc_incidents_open",
            "Open or acknowledged incidents, by severity (I..IV).",
            ("site", "severity"),
        )
        self.sla_availability = F(
            "noc_sla_availability_ratio", "Availability over the window (0..1).", w
        )
        self.sla_failures = F(
            "noc_sla_failures", "Failures (incidents of level I-III) in the window.", w
        )
        self.sla_mtbf = F("noc_sla_mtbf_seconds", "Mean time between failures over the window.", w)
        self.sla_mtbf_lower = F(
            "noc_sla_mtbf_lower_bound",
            "1 if the window had no failure: MTBF is at least noc_sla_mtbf_seconds.",
            w,
        )
        self.sla_mttr = F(
            "noc_sla_mttr_seconds",
            "Mean time to recover over the window, by recovery kind.",
            (*w, "recovery"),
        )
        self.sla_breaches = F(
            "noc_sla_breaches",
            "Recoveries over their target in the window, by recovery kind.",
            (*w, "recovery"),
        )
        self.sla_budget = F(
            "noc_sla_error_budget_remaining_ratio",
            "Error budget left over the window (1 = untouched).",
            w,
        )
        self.sla_timeliness = F(
            "noc_sla_response_timeliness_ratio",
            "Incidents acknowledged within their runbook deadline, over those due.",
            w,
        )
        self.sla_alarm_delay = F(
            "noc_sla_alarm_delay_seconds",
            "Fault start to first delivered alert: stat p50 (median) and max.",
            (*w, "stat"),
        )
        self.sla_burn = F(
            "noc_sla_burn_rate",
            "Error-budget burn rate over the lookback (1 = exactly on budget).",
            (*s, "lookback"),
        )
        self.sla_coverage = F(
            "noc_sla_coverage_ratio",
            "Monitored over scheduled time in the window; under the threshold: insufficient.",
            w,
        )
        self.sla_coverage_threshold = F(
            "noc_sla_coverage_threshold_ratio",
            "Coverage under which the figures are marked insufficient.",
            ("site",),
        )
        self.sla_objective = F(
            "noc_sla_availability_objective_ratio", "Contracted availability objective.", ("site",)
        )
        self.sla_mtbf_target = F(
            "noc_sla_mtbf_target_seconds", "Contracted MTBF target (600 h).", ("site",)
        )
        self.sla_mttr_target = F(
            "noc_sla_mttr_target_seconds",
            "Contracted recovery targets, by recovery kind.",
            ("site", "recovery"),
        )
        self.sla_computed = F(
            "noc_sla_last_computed_timestamp_seconds",
            "When the SLA figures were last computed.",
            ("site",),
        )
        k = ("site", "indicator")
        self.kpi_ratio = F(
            "noc_kpi_ratio",
            "KPI figure this month so far (Asia/Shanghai), numerator/denominator, 0..1; absent "
            "when the figure has no data (noc_kpi_data_present 0), never 0 for it.",
            k,
        )
        self.kpi_present = F(
            "noc_kpi_data_present",
            "1 if the KPI figure has data this month so far, 0 if not (no data is not met).",
            k,
        )
        self.kpi_numerator = F(
            "noc_kpi_numerator", "Records that met the KPI this month so far (its numerator).", k
        )
        self.kpi_denominator = F(
            "noc_kpi_denominator",
            "Records the KPI counted this month so far (its denominator; 0: no data).",
            k,
        )
        self.kpi_items = F(
            "noc_kpi_items",
            "Items the KPI counts this month so far: justified complaints, overdue vacancies, "
            "late/missing/corrected reports, emergencies over time; commendations.",
            k,
        )
        self.kpi_pending = F(
            "noc_kpi_pending",
            "Records not yet due (callbacks, reports, emergencies, faults): neither met nor failed.",
            k,
        )
        self.kpi_target = F(
            "noc_kpi_target_ratio", "Configured target of a rate KPI (kpi.targets), 0..1.", k
        )
        self.kpi_points = F(
            "noc_kpi_score_points",
            "Scorecard points of the KPI this month so far (absent when left out of the total).",
            k,
        )
        self.kpi_max_points = F(
            "noc_kpi_max_points", "Points the KPI is worth on the scorecard (bonus: at most).", k
        )
        self.kpi_scorecard = F(
            "noc_kpi_scorecard_points",
            "Scorecard this month so far: part base (of 100), bonus (of 5) and total.",
            ("site", "part"),
        )
        self.kpi_period_start = F(
            "noc_kpi_period_start_timestamp_seconds",
            "Start of the month the KPI figures cover (Asia/Shanghai midnight, Unix time).",
            ("site",),
        )
        self.kpi_computed = F(
            "noc_kpi_last_computed_timestamp_seconds",
            "When the KPI figures were last computed.",
            ("site",),
        )
        self.kpi_duration = F(
            "noc_kpi_computation_duration_seconds",
            "How long the last computation of the KPI figures took.",
            ("site",),
        )
        self.families: tuple[GaugeFamily, ...] = tuple(
            v for v in vars(self).values() if isinstance(v, GaugeFamily)
        )
        # the probe kinds' figure names (probes.kind.Gauges) → their families
        self._figures = {
            "rtt_seconds": self.rtt,
            "loss_ratio": self.loss,
            "jitter_seconds": self.jitter,
            "sip_status_code": self.sip_status,
        }
        self._checks: dict[tuple[str, str], _Check] = {}
        self._asset_checks: dict[str, list[tuple[str, str]]] = {}
        self._asset_labels: dict[str, tuple[str, str, str]] = {}
        self._down: set[tuple[str, str]] = set()
        self._state: dict[tuple[str, str], tuple[str, str]] = {}  # (health state, shown state)
        self._if_series: dict[tuple[str, str], set[tuple[GaugeFamily, tuple[str, ...]]]] = {}
        self._if_figures = {"rate": self.if_rate, "util": self.if_util, "oper": self.if_oper}
        self._if_counters = {
            "bytes": self.if_bytes,
            "errors": self.if_errors,
            "discards": self.if_discards,
        }
        self._totals = CounterTotals()
        self.set_open_incidents({})

    # -- inventory -----------------------------------------------------------------------

    def add_check(self, asset: str, check: str, check_type: str, kind: str) -> None:
        """Register a check: its state starts ``unknown`` and its asset counts as up."""
        key = (asset, check)
        probe_kind = KINDS.get(check_type)
        gauges = probe_kind.gauges if probe_kind is not None else no_gauges
        self._checks[key] = _Check((self.site, asset, kind, check), check_type, gauges)
        self._asset_checks.setdefault(asset, []).append(key)
        self._asset_labels[asset] = (self.site, asset, kind)
        self.set_check_state(key, "unknown")

    def set_contract(self, asset: str, kind: str, interface: str, bits_per_second: float) -> None:
        """The inventory's contracted bandwidth (bit/s), exported in bytes per second."""
        self.if_contract.set((self.site, asset, kind, interface), bits_per_second / 8)

    # -- updates -------------------------------------------------------------------------

    def observe_result(self, key: tuple[str, str], result: ProbeResult) -> None:
        """Fold one probe result of ``key`` into the probe and interface gauges."""
        info = self._checks.get(key)
        if info is None:
            return
        labels = info.labels
        self.probe_up.set(labels, 1.0 if result.ok else 0.0)
        self.duration.set(labels, result.duration_seconds)
        self.last_ts.set(labels, result.started_at)
        gauges = info.gauges(result)
        for name, value in gauges.figures.items():
            self._set_or_remove(self._figures[name], labels, value)
        if gauges.interfaces is not None or gauges.counters is not None:
            self._observe_interfaces(key, labels, result.started_at, gauges)

    def _observe_interfaces(
        self, key: tuple[str, str], labels: tuple[str, ...], read_at: float, gauges: Gauges
    ) -> None:
        """The interface series of one result; those it no longer reports go away (the
        counters' totals are kept, so a series that comes back carries on from its total)."""
        seen: set[tuple[GaugeFamily, tuple[str, ...]]] = set()
        figures = self._if_figures
        for interface, metrics in (gauges.interfaces or {}).items():
            for metric, value in metrics.items():
                what = _RATE_VALUES.get(metric)
                if what is None:
                    continue
                family = figures[what[0]]
                series = (*labels, interface, what[1]) if what[1] else (*labels, interface)
                family.set(series, value)
                seen.add((family, series))
        if gauges.counters:
            restarted = self._totals.restarted(key, read_at, gauges.uptime_seconds)
            for interface, readings in gauges.counters.items():
                for name, reading in readings.items():
                    what = _COUNTER_VALUES.get(name)
                    if what is not None:
                        seen.add(self._count(what, (*labels, interface), reading, restarted))
        for family, series in self._if_series.get(key, set()) - seen:
            family.remove(series)
        self._if_series[key] = seen

    def _count(
        self,
        what: tuple[str, str],
        labels: tuple[str, ...],
        reading: CounterReading,
        restarted: bool,
    ) -> tuple[GaugeFamily, tuple[str, ...]]:
        family = self._if_counters[what[0]]
        series = (*labels, what[1])
        family.set(series, self._totals.advance((family.name, series), reading, restarted))
        return family, series

    def set_check_state(self, key: tuple[str, str], state: str, flapping: bool = False) -> None:
        """The check's health state (``UP``, ``down`` …, any case) and whether it flaps."""
        info = self._checks.get(key)
        if info is None:
            return
        state = state.lower()
        if state not in CHECK_STATES:
            raise ValueError(f"unknown check state {state!r}; one of {', '.join(CHECK_STATES)}")
        shown = "flapping" if flapping else state
        if self._state.get(key) == (state, shown):
            return  # the usual case: a result that changed nothing
        self._state[key] = (state, shown)
        for name in CHECK_STATES:
            self.check_state.set((*info.labels, name), 1.0 if name == shown else 0.0)
        was_down = key in self._down
        if state == "down":
            self._down.add(key)
        else:
            self._down.discard(key)
        asset = info.labels[1]
        if was_down != (state == "down") or self.asset_up.get(self._asset_labels[asset]) is None:
            up = not any(k in self._down for k in self._asset_checks[asset])
            self.asset_up.set(self._asset_labels[asset], 1.0 if up else 0.0)

    def set_open_incidents(self, by_severity: Mapping[str, int]) -> None:
        """Open + acknowledged incidents per severity; all four levels are always exported."""
        unknown = set(by_severity) - set(LEVELS)
        if unknown:
            raise ValueError(f"unknown severity {sorted(unknown)}; one of {', '.join(LEVELS)}")
        for level in LEVELS:
            self.incidents.set((self.site, level), by_severity.get(level, 0))

    def set_sla(self, snap: SlaSnapshot) -> None:
        """Replace every SLA gauge with the figures of ``snap``."""
        site = self.site
        rows: dict[GaugeFamily, list[tuple[tuple[str, ...], float]]] = {
            f: [] for f in self._sla_families()
        }
        for r in snap.rows:
            w = (r.site, r.scope, r.window)
            rows[self.sla_availability].append((w, r.availability_ratio))
            rows[self.sla_failures].append((w, r.failures))
            if r.mtbf_seconds is not None:
                rows[self.sla_mtbf].append((w, r.mtbf_seconds))
                rows[self.sla_mtbf_lower].append((w, 1.0 if r.mtbf_lower_bound else 0.0))
            rows[self.sla_mttr] += [((*w, kind), v) for kind, v in r.mttr_seconds.items()]
            rows[self.sla_breaches] += [
                ((*w, kind), r.breaches.get(kind, 0))
                for kind in dict.fromkeys((*RECOVERY_KINDS, *r.breaches))
            ]
            rows[self.sla_budget].append((w, r.error_budget_remaining_ratio))
            if r.coverage_ratio is not None:
                rows[self.sla_coverage].append((w, r.coverage_ratio))
            if r.response_timeliness_ratio is not None:
                rows[self.sla_timeliness].append((w, r.response_timeliness_ratio))
            rows[self.sla_alarm_delay] += [
                ((*w, _ALARM_DELAY_STATS.get(q, q)), v) for q, v in r.alarm_delay_seconds.items()
            ]
            if r.window == "30d":
                rows[self.sla_burn] += [
                    ((r.site, r.scope, lookback), v) for lookback, v in r.burn_rate.items()
                ]
        t = snap.targets
        rows[self.sla_objective].append(((site,), t.availability_objective_ratio))
        rows[self.sla_coverage_threshold].append(((site,), t.coverage_threshold_ratio))
        rows[self.sla_mtbf_target].append(((site,), t.mtbf_seconds))
        rows[self.sla_mttr_target] += [((site, kind), v) for kind, v in t.mttr_seconds.items()]
        rows[self.sla_computed].append(((site,), snap.computed_at.timestamp()))
        for family, items in rows.items():
            family.replace(items)

    def set_kpi(self, snap: KpiSnapshot) -> None:
        """Replace every KPI gauge with the figures of ``snap``. A figure without data exports
        no ratio (``noc_kpi_data_present`` 0); a count that is None exports nothing."""
        site = self.site
        rows: dict[GaugeFamily, list[tuple[tuple[str, ...], float]]] = {
            f: [] for f in self.families if f.name.startswith("noc_kpi_")
        }
        for r in snap.rows:
            labels = (site, r.indicator)
            rows[self.kpi_present].append((labels, 1.0 if r.data_present else 0.0))
            rows[self.kpi_max_points].append((labels, r.max_points))
            for family, value in (
                (self.kpi_ratio, r.ratio),
                (self.kpi_target, r.target_ratio),
                (self.kpi_numerator, r.numerator),
                (self.kpi_denominator, r.denominator),
                (self.kpi_items, r.items),
                (self.kpi_pending, r.pending),
                (self.kpi_points, r.points),
            ):
                if value is not None:
                    rows[family].append((labels, value))
        rows[self.kpi_scorecard] += [
            ((site, "base"), snap.base_points),
            ((site, "bonus"), snap.bonus_points),
            ((site, "total"), snap.total_points),
        ]
        rows[self.kpi_period_start].append(((site,), snap.period_start.timestamp()))
        rows[self.kpi_computed].append(((site,), snap.computed_at.timestamp()))
        rows[self.kpi_duration].append(((site,), snap.seconds))
        for family, items in rows.items():
            family.replace(items)

    def _sla_families(self) -> tuple[GaugeFamily, ...]:
        return tuple(f for f in self.families if f.name.startswith("noc_sla_"))

    @staticmethod
    def _set_or_remove(family: GaugeFamily, labels: tuple[str, ...], value: float | None) -> None:
        if value is None:
            family.remove(labels)
        else:
            family.set(labels, value)

    # -- reading -------------------------------------------------------------------------

    def render(self) -> str:
        """The snapshot in the Prometheus text format (0.0.4), from the ready lines."""
        out: list[str] = []
        for family in self.families:
            family.render(out)
        return "".join(out)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """prometheus_client's collector protocol: the same values as metric families."""
        for family in self.families:
            yield family.family()

    def describe(self) -> Iterator[GaugeMetricFamily]:
        for family in self.families:
            yield family.empty()

    def sample_count(self) -> int:
        return sum(len(f) for f in self.families)


def snapshot_for_config(config) -> MetricsSnapshot:  # noqa: ANN001 - noc.config.NocConfig (kept import-light)
    """A snapshot with every enabled check and every contracted circuit interface of ``config``."""
    snap = MetricsSnapshot(config.site.name)
    for asset, check in config.iter_checks():
        snap.add_check(asset.name, check.check_name, check.type, asset.kind)
    for asset in config.assets:
        if not asset.bandwidth:
            continue
        interfaces = [
            n for c in asset.checks if c.type == "snmp" and c.enabled for n in c.interfaces
        ]
        if asset.interface:
            interfaces.append(asset.interface)
        for name in dict.fromkeys(interfaces):
            snap.set_contract(asset.name, asset.kind, name, asset.bandwidth)
    return snap
