"""Helpers for the call, ticket and knowledge-base tests: a config with caller keys, records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from noc.config import NocConfig
from noc.config.models import PrivacySettings
from noc.ingest.privacy import CallerProtector
from noc.ingest.records import Context

HASH_KEY = "test-caller-hash-key-0123456789"
TZ = ZoneInfo("Asia/Shanghai")
QUEUE_LOGS = Path(__file__).resolve().parent.parent / "data" / "queue_log"


def with_privacy(config: NocConfig, **settings) -> NocConfig:
    """The config with a caller hash key (and whatever else is given) in ``privacy``."""
    privacy = PrivacySettings(hash_key=SecretStr(HASH_KEY), **settings)
    return config.model_copy(update={"privacy": privacy})


def context(now: dt.datetime | None = None) -> Context:
    return Context(TZ, CallerProtector(HASH_KEY), now or dt.datetime.now(dt.UTC))


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(dt.UTC)
