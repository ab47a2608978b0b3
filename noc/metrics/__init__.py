"""Prometheus instruments of the service, on a registry of its own (not the global one).

Scrape-time values come from in-memory state only: ``collect()`` runs on the event loop, so it
must never touch the database or the network. The per-check, per-incident and SLA figures live
in a :class:`~noc.metrics.snapshot.MetricsSnapshot` fed by the engine and a refresh task;
``/metrics`` is served by :meth:`Metrics.exposition`, which joins the snapshot's pre-rendered
lines to ``generate_latest`` of the few ordinary instruments (formatting 60,000 samples through
``generate_latest`` at 1,000 assets would cost far more than a scrape may).
"""

from __future__ import annotations

import platform
from collections import Counter

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    Info,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

from noc import __version__
from noc.config import NocConfig
from noc.metrics.snapshot import MetricsSnapshot, snapshot_for_config


class Metrics:
    """The service's registry and instruments.

    ``registry`` holds everything (``generate_latest(registry)`` is a complete, if slow at scale,
    exposition); ``base`` holds everything but the snapshot, for the fast path."""

    def __init__(self, config: NocConfig):
        self.base = CollectorRegistry(auto_describe=True)
        process_collector.ProcessCollector(registry=self.base)
        platform_collector.PlatformCollector(registry=self.base)
        gc_collector.GCCollector(registry=self.base)
        self.build_info = Info(
            "noc_build", "Version of the hotline NOC service.", registry=self.base
        )
        self.build_info.info({"version": __version__, "python": platform.python_version()})
        self.assets = Gauge(
            "noc_assets", "Assets in the inventory, by kind.", ["site", "kind"], registry=self.base
        )
        self.checks = Gauge(
            "noc_checks",
            "Enabled checks in the inventory, by check type.",
            ["site", "check"],
            registry=self.base,
        )
        self.store_up = Gauge(
            "noc_store_up",
            "1 if the event store answered its last health check.",
            ["backend"],
            registry=self.base,
        )
        self.outbox = OutboxCollector()
        self.base.register(self.outbox)
        self.snapshot: MetricsSnapshot = snapshot_for_config(config)
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_Union(self.base))
        self.registry.register(self.snapshot)
        self.load_inventory(config)

    def exposition(self) -> bytes:
        """The whole ``/metrics`` body (text format 0.0.4): the ordinary instruments formatted by
        prometheus_client, then the snapshot's ready lines."""
        return generate_latest(self.base) + self.snapshot.render().encode("utf-8")

    def load_inventory(self, config: NocConfig) -> None:
        site = config.site.name
        for kind, n in Counter(a.kind for a in config.assets).items():
            self.assets.labels(site=site, kind=kind).set(n)
        for check, n in Counter(c.type for _, c in config.iter_checks()).items():
            self.checks.labels(site=site, check=check).set(n)


class _Union:
    """Another registry's collectors, as one collector (so ``registry`` can hold ``base``)."""

    def __init__(self, registry: CollectorRegistry):
        self._registry = registry

    def collect(self):
        return self._registry.collect()

    def describe(self):
        return self._registry.collect()


class OutboxCollector:
    """Alert delivery figures from the last outbox snapshot (refreshed by a background task,
    never read from the database inside ``collect()``)."""

    def __init__(self) -> None:
        self.snapshot = None

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        attempts = CounterMetricFamily(
            "noc_alert_delivery_attempts",
            "Alert delivery attempts by receiver and outcome.",
            labels=["receiver", "outcome"],
        )
        depth = GaugeMetricFamily(
            "noc_alert_queue_depth",
            "Alert messages waiting for delivery, by receiver.",
            labels=["receiver"],
        )
        age = GaugeMetricFamily(
            "noc_alert_oldest_undelivered_age_seconds",
            "Age of the oldest undelivered alert message, by receiver.",
            labels=["receiver"],
        )
        snap = self.snapshot
        if snap is not None:
            for (receiver, outcome), n in sorted(snap.attempts.items()):
                attempts.add_metric([receiver, outcome], n)
            for receiver, n in sorted(snap.queue_depth.items()):
                depth.add_metric([receiver], n)
            for receiver, seconds in sorted(snap.oldest_undelivered_age_seconds.items()):
                age.add_metric([receiver], seconds)
        yield attempts
        yield depth
        yield age
