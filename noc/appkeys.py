"""Typed keys of the aiohttp application, in one module so handlers and wiring share them."""

from __future__ import annotations

from aiohttp import web

from alerting.outbox import Outbox
from alerting.pipeline import AlertPipeline
from incident_runbooks.loader import RunbookSet
from noc.calls_batch import IngestBatcher
from noc.config import NocConfig
from noc.metrics import Metrics
from noc.reports.service import MonthlyReports
from noc.runtime.automation import StepAutomation
from noc.runtime.engine import Engine
from noc.runtime.events import EventHub
from noc.runtime.scheduler import Scheduler
from noc.runtime.watch import Watch
from noc.store import Store
from probes.probeset import ProbeSet

CONFIG = web.AppKey("config", NocConfig)
DB_URL = web.AppKey("db_url", str)
STORE = web.AppKey("store", Store)
INGEST = web.AppKey("ingest_batcher", IngestBatcher)  # the ingest API's group commit
METRICS = web.AppKey("metrics", Metrics)
PROBING_ALLOWED = web.AppKey("probing_allowed", bool)
PROBING_ENABLED = web.AppKey("probing_enabled", bool)
PROBES = web.AppKey("probes", ProbeSet)
ENGINE = web.AppKey("engine", Engine)
SCHEDULER = web.AppKey("scheduler", Scheduler)
RUNBOOKS = web.AppKey("runbooks", RunbookSet)
AUTOMATION = web.AppKey("automation", StepAutomation)
OUTBOX = web.AppKey("outbox", Outbox)
PIPELINE = web.AppKey("alert_pipeline", AlertPipeline)
HUB = web.AppKey("event_hub", EventHub)
WATCH = web.AppKey("watch", Watch)
REPORTS = web.AppKey("monthly_reports", MonthlyReports)
