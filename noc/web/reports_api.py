"""``GET /api/v1/reports/monthly?period=2026-11&format=docx|pdf|html&lang=zh-CN|en[&as_of=T]``
(permission ``read``): the monthly report (12345热线月报) as a file, what ``noc report monthly``
writes, made on demand by the service's one report maker (:mod:`noc.reports.service`: off the
event loop, one at a time — 503 with ``Retry-After`` while another is being made — the bytes
kept briefly per period, format, language and as-of minute).

Every download is audited (``report.download``, target ``report:monthly:PERIOD``, with the
format, language, as-of instant, size and SHA-256 of what left): the report holds aggregates of
citizens' calls and tickets, and who took which copy of it is part of the record, as reading the
audit log is (``audit.export``). The row is written before the bytes are sent; a store that
cannot record it sends nothing. The console's 月报 page downloads through the same functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, DB_URL, REPORTS, RUNBOOKS, STORE
from noc.core.errors import InputError
from noc.core.time import parse_instant
from noc.identity.audit import AuditEntry
from noc.reports.monthly import FORMATS, LANGS, MEDIA_TYPES, ascii_file_name
from noc.reports.service import MonthlyReports, ReportFile, report_key
from noc.store.audit_log import AuditLog
from noc.web.auth import current_actor
from noc.web.permissions import READ
from noc.web.routes import Param, Route

DOWNLOAD_ACTION = "report.download"


async def reports_ctx(app: web.Application) -> AsyncIterator[None]:
    """The service's one report maker; its thread and store are closed on shutdown."""
    app[REPORTS] = MonthlyReports(app[DB_URL], app[CONFIG], app[RUNBOOKS])
    try:
        yield
    finally:
        await app[REPORTS].close()


async def monthly_file(
    app: web.Application, period: str, fmt: str, lang: str, as_of: str | None
) -> ReportFile:
    """The report asked for (``as_of`` in site time, empty: now): an ``InputError`` (400) for a
    value that cannot be read, ``ReportBusy`` (503) while another report is being made."""
    tz = ZoneInfo(app[CONFIG].site.timezone)
    try:
        at = parse_instant(as_of, tz) if as_of else dt.datetime.now(dt.UTC)
    except InputError as exc:
        raise InputError(f"as_of: {exc.message}") from None
    return await app[REPORTS].get(report_key(period, fmt, lang, at, tz))


def content_disposition(file: ReportFile) -> str:
    """``attachment`` with an ASCII ``filename`` and the real (Chinese) name as RFC 6266/5987
    ``filename*=UTF-8''…``, which every current browser prefers."""
    plain = ascii_file_name(file.key.period, file.key.fmt)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file.filename, safe='')}"


async def file_response(request: web.Request, file: ReportFile) -> web.Response:
    """Audit the download (``report.download``), then answer with the file."""
    key = file.key
    entry = AuditEntry.by(
        current_actor(request),
        DOWNLOAD_ACTION,
        f"report:monthly:{key.period}",
        after={
            "period": key.period,
            "format": key.fmt,
            "lang": key.lang,
            "as_of": key.as_of.isoformat(),
            "bytes": len(file.data),
            "sha256": file.sha256,
            "cached": file.cached,
        },
    )
    store = request.app[STORE]
    async with store.transaction() as tx:
        await AuditLog(store).append(tx, entry)
    return web.Response(
        body=file.data,
        content_type=file.media_type,
        charset="utf-8" if key.fmt == "html" else None,
        headers={
            "Content-Disposition": content_disposition(file),
            "Cache-Control": "no-store",
            "X-Report-As-Of": key.as_of.isoformat(),
        },
    )


async def get_monthly(request: web.Request) -> web.Response:
    q = request.query
    config = request.app[CONFIG]
    file = await monthly_file(
        request.app,
        q.get("period", ""),
        q.get("format", "docx"),
        q.get("lang") or config.site.locale,
        q.get("as_of"),
    )
    return await file_response(request, file)


ROUTES = [
    Route(
        "GET",
        "/api/v1/reports/monthly",
        get_monthly,
        READ,
        "The monthly report (12345热线月报) as a file, made on demand; 503 with Retry-After "
        "while another report is being made; every download audited (report.download)",
        query=(
            Param("period", "the calendar month, site time (2026-11)", required=True),
            Param(
                "format",
                "docx (default), pdf or html",
                {"type": "string", "enum": list(FORMATS), "default": "docx"},
            ),
            Param(
                "lang",
                "the report's language (default: the site's locale)",
                {"type": "string", "enum": list(LANGS)},
            ),
            Param("as_of", "the figures as they stood then, site time (default now)"),
        ),
        tag="reports",
        produces=tuple(MEDIA_TYPES.values()),
    ),
]
