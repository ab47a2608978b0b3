"""Typed keys of the aiohttp application, in one module so handlers and wiring share them."""

from __future__ import annotations

from aiohttp import web

from noc.config import NocConfig
from noc.metrics import Metrics
from noc.store import Store

CONFIG = web.AppKey("config", NocConfig)
DB_URL = web.AppKey("db_url", str)
STORE = web.AppKey("store", Store)
METRICS = web.AppKey("metrics", Metrics)
PROBING_ALLOWED = web.AppKey("probing_allowed", bool)
