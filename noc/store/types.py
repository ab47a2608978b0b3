"""Column types shared by every table: instants are stored in UTC, always timezone-aware in Python."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from noc.core.time import UTC, utcnow


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant in UTC.

    PostgreSQL keeps it as ``timestamptz``; SQLite has no time zones, so the naive UTC value is
    stored and the zone put back on read. A naive datetime on the way in is a bug upstream and
    is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store instants in UTC with tzinfo")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):  # noqa: ANN001, ANN201
        """SQLite: straight to the text SQLAlchemy's DATETIME stores (``2026-11-03
        01:00:12.000000``, UTC) in one step; ingest binds hundreds of thousands of these."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: dt.datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:
                if value.tzinfo is None:
                    raise ValueError(f"naive datetime {value!r}: store instants in UTC with tzinfo")
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = ["UTC", "UTCDateTime", "utcnow"]

# the session type repositories take, for callers that pass one through without importing SQLAlchemy
Session = AsyncSession
