"""Prometheus instruments of the service, on a registry of its own (not the global one).

Scrape-time values come from in-memory state only: ``collect()`` runs on the event loop, so it
must never touch the database or the network.
"""

from __future__ import annotations

import platform
from collections import Counter

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    Info,
    gc_collector,
    platform_collector,
    process_collector,
)

from noc import __version__
from noc.config import NocConfig


class Metrics:
    """The service's registry and instruments."""

    def __init__(self, config: NocConfig):
        self.registry = CollectorRegistry(auto_describe=True)
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self.build_info = Info("noc_build", "Version of the hotline NOC service.", registry=self.registry)
        self.build_info.info({"version": __version__, "python": platform.python_version()})
        self.assets = Gauge("noc_assets", "Assets in the inventory, by kind.", ["site", "kind"],
                            registry=self.registry)
        self.checks = Gauge("noc_checks", "Enabled checks in the inventory, by check type.",
                            ["site", "check"], registry=self.registry)
        self.store_up = Gauge("noc_store_up", "1 if the event store answered its last health check.",
                              ["backend"], registry=self.registry)
        self.outbox = OutboxCollector()
        self.registry.register(self.outbox)
        self.load_inventory(config)

    def load_inventory(self, config: NocConfig) -> None:
        site = config.site.name
        for kind, n in Counter(a.kind for a in config.assets).items():
            self.assets.labels(site=site, kind=kind).set(n)
        for check, n in Counter(c.type for _, c in config.iter_checks()).items():
            self.checks.labels(site=site, check=check).set(n)


class OutboxCollector:
    """Alert delivery figures from the last outbox snapshot (refreshed by a background task,
    never read from the database inside ``collect()``)."""

    def __init__(self) -> None:
        self.snapshot = None

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        attempts = CounterMetricFamily("noc_alert_delivery_attempts", "Alert delivery attempts by receiver and outcome.",
                                       labels=["receiver", "outcome"])
        depth = GaugeMetricFamily("noc_alert_queue_depth", "Alert messages waiting for delivery, by receiver.",
                                  labels=["receiver"])
        age = GaugeMetricFamily("noc_alert_oldest_undelivered_age_seconds",
                                "Age of the oldest undelivered alert message, by receiver.", labels=["receiver"])
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
