"""Structured logs: one line per event, ``key=value`` (default) or JSON (``--log-format json``).

Every line passes the secret scrubber last-but-one, so a community string or key that reaches a
log message is masked before it is rendered.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

from noc.core.secrets import SecretScrubber

LogFormat = Literal["kv", "json"]
scrubber = SecretScrubber()


def configure_logging(fmt: LogFormat = "kv", level: str = "INFO", stream=None) -> None:
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.processors.KeyValueRenderer(
            key_order=["ts", "level", "event"], drop_missing=True
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            structlog.processors.format_exc_info,
            scrubber,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    # libraries logging through stdlib (aiohttp access log, alembic) go to the same stream
    logging.basicConfig(
        level=logging.WARNING,
        stream=stream or sys.stderr,
        format="level=%(levelname)s logger=%(name)s event=%(message)r",
        force=True,
    )


def get_logger(name: str | None = None):
    return structlog.get_logger(name)
