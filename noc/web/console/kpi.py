"""考核 KPIs and the scorecard, and the records behind each figure (drill-down).

The page shows what ``GET /api/v1/kpi`` answers for the same period, scope and as-of instant
(:func:`noc.kpi_view.kpi_data`, one computation for the CLI, the API and the console): per
indicator its target, value, numerator and denominator, points and the deduction in words; a
rate with nothing to count is 无数据 (no data), never "met". Every figure links to
``/kpi/records``, which recomputes the same figure at the same as-of instant and lists the
records in it, a page at a time (callers masked unless the role may see them).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from kpi.errors import ScopeError
from kpi.model import NAMES, Rules
from noc.appkeys import CONFIG, STORE
from noc.core.errors import InputError
from noc.ingest import fields as f
from noc.kpi_view import as_of_of, kpi_data, window_of
from noc.store import kpi_records
from noc.web.console.context import lang
from noc.web.console.display import Shown
from noc.web.console.messages import translate
from noc.web.console.pages import NAV, page, render, subpage
from sla.intervals import PeriodError, current_month

PER_PAGE = 50
FRESH_SECONDS = 60.0
CACHE_SIZE = 32
CACHE = web.AppKey("console_kpi_cache", dict)  # (period, start, end, scope, as_of) -> (t, data)
SCOPE_KINDS = ("site", "agent", "town", "channel")

# what the ids of each figure's records are (kpi/compute.py builds them)
RECORD_KINDS: dict[str, str] = {
    "answer_rate": "calls",
    "spot_check": "spot_checks",
    "instant_answer": "tickets",
    "callback_on_time": "tickets",
    "satisfaction": "tickets",
    "complaints": "complaints",
    "staffing": "text",
    "reports": "text",
    "emergencies": "emergencies",
    "platform_faults": "incidents",
    "commendations": "commendations",
}
CORRELATION_SETS = {
    "calls_offered": "calls",
    "calls_abandoned": "calls",
    "tickets_delayed": "tickets",
}


# -- the request's period, scope and as-of ------------------------------------------------


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


def _scope_text(request: web.Request) -> str:
    """``scope`` as the API takes it (``agent:8001``), or the form's kind + value."""
    q = request.query
    if q.get("scope"):
        return q["scope"].strip()
    kind, value = q.get("scope_kind", "site"), q.get("scope_value", "").strip()
    if kind in ("", "site"):
        return "site"
    return f"{kind}:{value}"


def _params(request: web.Request) -> dict[str, str]:
    """The period, scope and as-of as asked (empty: the current site month, site, now)."""
    q = request.query
    out = {k: q.get(k, "").strip() for k in ("period", "from", "to", "as_of")}
    if not (out["period"] or out["from"] or out["to"]):
        now = dt.datetime.now(dt.UTC)
        out["period"] = current_month(now, _tz(request)).label
    out["scope"] = _scope_text(request)
    return out


async def _data(request: web.Request, params: dict[str, str]) -> dict[str, Any]:
    """The figures of ``GET /api/v1/kpi`` for these params. A month takes a second or two to
    compute, so a result is kept for a minute: under the asked as-of (none: "now") and under
    the instant it was computed as of, which is what the page's drill-down links pin."""
    tz = _tz(request)
    window = window_of(params["period"] or None, params["from"] or None, params["to"] or None, tz)
    as_of = as_of_of(params["as_of"] or None, tz)
    cache = request.app[CACHE]
    where = (window.label, window.start, window.end, params["scope"])
    key = (*where, as_of if params["as_of"] else None)
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] <= FRESH_SECONDS:
        return hit[1]
    data = await kpi_data(request.app[STORE], request.app[CONFIG], window, as_of, params["scope"])
    cache[key] = cache[(*where, as_of)] = (now, data)
    for old in sorted(cache, key=lambda k: cache[k][0])[: max(0, len(cache) - CACHE_SIZE)]:
        del cache[old]
    return data


def forget(app: web.Application) -> None:
    """A register changed through the console: the next page computes afresh."""
    app[CACHE].clear()


def _link(path: str, params: dict[str, str], **more: Any) -> str:
    query = {k: v for k, v in params.items() if v and not (k == "scope" and v == "site")}
    query.update({k: v for k, v in more.items() if v not in (None, "")})
    return f"{path}?{urlencode(query)}"


def _pct(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value * 100:.2f}%"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


# -- the page -----------------------------------------------------------------------------


def _row(fig: dict, item: dict, rules: Rules, language: str, pinned: dict[str, str]) -> dict:
    rule = rules.rules[fig["id"]]
    zh, en = NAMES[fig["id"]]

    def t(key: str, **values: Any) -> str:
        return translate(key, language, **values)

    if rule.kind == "rate":
        target = t("kpi.target_rate", pct=_pct(rule.target))
    elif rule.kind == "bonus":
        target = t("kpi.target_bonus", max=_points(rule.points))
    else:
        target = t("kpi.target_count", per=_points(rule.points_per_item))
    rate_shown = fig["numerator"] is not None and fig["denominator"] is not None
    if fig["status"] == "no_data":
        state, state_class = t("kpi.no_data"), "none"
    elif fig["status"] == "n/a":
        state, state_class = t("kpi.not_applicable"), "none"
    elif rule.kind == "rate":
        met = fig["value"] is not None and round((rule.target - fig["value"]) * 100, 6) <= 0
        state, state_class = (t("kpi.met"), "met-true") if met else (t("kpi.below"), "met-false")
    else:
        state, state_class = "", ""
    if fig["status"] in ("no_data", "n/a"):
        value = t("kpi.no_data") if fig["status"] == "no_data" else t("kpi.not_applicable")
    elif rule.kind == "rate":
        value = _pct(fig["value"])
    else:
        value = str(fig["count"] if fig["count"] is not None else 0)
    links = [
        {
            "label": t(f"kpi.set.{name}") if _has_set(name) else name,
            "n": len(ids),
            "href": _link("/kpi/records", pinned, figure=fig["id"], set=name),
        }
        for name, ids in fig["records"].items()
    ]
    return {
        "id": fig["id"],
        "name": en if language == "en" else zh,
        "target": target,
        "value": value,
        "fraction": f"{fig['numerator']}/{fig['denominator']}" if rate_shown else "",
        "state": state,
        "state_class": state_class,
        "points": _points(item["points"]),
        "max": _points(item["max"]),
        "bonus": item["bonus"],
        "why": item["why_en"] if language == "en" else item["why_zh"],
        "links": links,
        "notes": fig["notes"],
    }


def _has_set(name: str) -> bool:
    from noc.web.console.messages import has

    return has(f"kpi.set.{name}")


def _pinned(params: dict[str, str], data: dict[str, Any]) -> dict[str, str]:
    """The page's period and scope with its as-of instant fixed, so a drill-down lists exactly
    the records of the figure on the page (not of a later "now")."""
    return {**params, "as_of": params["as_of"] or data["as_of"]}


def _form(request: web.Request, params: dict[str, str]) -> dict[str, str]:
    kind, _, value = params["scope"].partition(":")
    return {**params, "scope_kind": kind if kind in SCOPE_KINDS else "site", "scope_value": value}


def _kpi_page() -> Any:
    return next(p for p in NAV if p.key == "kpi")


@page("kpi")
async def kpi_page(request: web.Request) -> dict[str, Any] | web.StreamResponse:
    params = _params(request)
    language = lang(request)
    common = {
        "form": _form(request, params),
        "scope_kinds": SCOPE_KINDS,
        "channels": list(f.CHANNELS.labels.items()),
        "quick": _quick_periods(request, params),
    }
    try:
        data = await _data(request, params)
    except (PeriodError, ScopeError, InputError) as exc:
        context = {**common, "error": exc.message, "page": _kpi_page(), "data": None}
        return render(request, "kpi.html", context, 400)
    rules = request.app[CONFIG].kpi.rules()
    pinned = _pinned(params, data)
    rows = [
        _row(fig, item, rules, language, pinned)
        for fig, item in zip(data["figures"], data["scorecard"]["items"], strict=True)
    ]
    return {
        **common,
        "data": data,
        "rows": rows,
        "card": data["scorecard"],
        "correlation": _correlation(data.get("correlation"), pinned),
        "json_href": _link("/api/v1/kpi", pinned),
        "error": None,
    }


def _quick_periods(request: web.Request, params: dict[str, str]) -> list[dict[str, str]]:
    """This month, last month, this week, today: one click each (the scope kept)."""
    tz = _tz(request)
    today = dt.datetime.now(tz).date()
    first = today.replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=1)
    year, week, _ = today.isocalendar()
    keep = {"scope": params["scope"]}
    return [
        {"key": "kpi.this_month", "href": _link("/kpi", keep, period=first.strftime("%Y-%m"))},
        {"key": "kpi.last_month", "href": _link("/kpi", keep, period=last_month.strftime("%Y-%m"))},
        {"key": "kpi.this_week", "href": _link("/kpi", keep, period=f"{year}-W{week:02d}")},
        {"key": "kpi.today", "href": _link("/kpi", keep, period=today.isoformat())},
    ]


def _correlation(corr: dict[str, Any] | None, pinned: dict[str, str]) -> dict[str, Any] | None:
    if corr is None:
        return None
    incidents = []
    for i in corr["incidents"]:
        figure = f"incident:{i['incident']}"
        incidents.append(
            {
                **i,
                "links": {
                    name: _link("/kpi/records", pinned, figure=figure, set=name)
                    for name in CORRELATION_SETS
                },
            }
        )
    return {
        "incidents": incidents,
        "all": corr["answer_rate"],
        "outside": corr["answer_rate_outside_incidents"],
        "all_pct": _pct(corr["answer_rate"]["value"]),
        "outside_pct": _pct(corr["answer_rate_outside_incidents"]["value"]),
    }


# -- drill-down ---------------------------------------------------------------------------


def _figure_ids(data: dict[str, Any], figure: str, name: str) -> tuple[list[str], str, str]:
    """(ids, record kind, title) of one set of one figure (or of one incident's impact)."""
    if figure.startswith("incident:"):
        incident = figure.split(":", 1)[1]
        corr = data.get("correlation") or {"incidents": []}
        found = next((i for i in corr["incidents"] if i["incident"] == incident), None)
        if found is None or name not in CORRELATION_SETS:
            raise InputError(f"figure {figure!r} has no record set {name!r} in this period")
        return list(found[name]), CORRELATION_SETS[name], f"#{incident} {found['title']}"
    fig = next((x for x in data["figures"] if x["id"] == figure), None)
    if fig is None:
        raise InputError(f"figure: no indicator {figure!r}; one of {', '.join(RECORD_KINDS)}")
    if name not in fig["records"]:
        sets = ", ".join(fig["records"]) or "none"
        raise InputError(f"set: {figure} has no record set {name!r} (it has: {sets})")
    return list(fig["records"][name]), RECORD_KINDS[figure], figure


@subpage("/kpi/records", "kpi_records.html")
async def kpi_records_page(request: web.Request) -> dict[str, Any]:
    params = _params(request)
    figure, name = request.query.get("figure", ""), request.query.get("set", "")
    language = lang(request)
    raw = request.query.get("page", "1")
    number = int(raw) if raw.isdigit() and int(raw) > 0 else 1
    base = {"page": _kpi_page(), "form": _form(request, params), "figure": figure, "set": name}
    try:
        data = await _data(request, params)
        ids, kind, title = _figure_ids(data, figure, name)
    except (PeriodError, ScopeError, InputError) as exc:
        return {**base, "status": 400, "error": exc.message, "data": None}
    pinned = _pinned(params, data)
    pages = max(1, math.ceil(len(ids) / PER_PAGE))
    number = min(number, pages)
    shown = ids[(number - 1) * PER_PAGE : number * PER_PAGE]
    columns, rows = await _records(request, kind, shown)
    if figure in NAMES:
        zh, en = NAMES[figure]
        title = en if language == "en" else zh
    set_label = translate(f"kpi.set.{name}", language) if _has_set(name) else name
    nav = {"figure": figure, "set": name}
    return {
        **base,
        "error": None,
        "data": data,
        "title": title,
        "set_label": set_label,
        "total": len(ids),
        "columns": columns,
        "rows": rows,
        "page_number": number,
        "pages": pages,
        "prev_href": _link("/kpi/records", pinned, **nav, page=number - 1) if number > 1 else None,
        "next_href": _link("/kpi/records", pinned, **nav, page=number + 1)
        if number < pages
        else None,
        "back_href": _link("/kpi", pinned),
    }


def _cell(text: Any, href: str | None = None) -> dict[str, Any]:
    return {"text": "–" if text is None or text == "" else str(text), "href": href}


def _ticket_href(number: str | None) -> str | None:
    return f"/tickets?{urlencode({'q': number})}" if number else None


Cells = list[dict[str, Any]]


def _missing(ref: str, columns: int) -> Cells:
    """The row of a record the store no longer has: its id, the rest blank."""
    return [_cell(ref)] + [_cell(None)] * (columns - 1)


def _call_cells(s: Shown, ref: str, c: Any) -> Cells:
    return [
        _cell(ref),
        _cell(s.time(c.entered_at or c.started_at)),
        _cell(s.label(f.CALL_OUTCOMES, c.outcome)),
        _cell(f"{c.wait_seconds:.0f} s" if c.wait_seconds is not None else None),
        _cell(c.agent),
        _cell(s.caller(c.caller_masked, c.caller_enc)),
    ]


def _ticket_cells(s: Shown, no: str, r: Any) -> Cells:
    return [
        _cell(no, _ticket_href(no)),
        _cell(s.time(r.created_at)),
        _cell(s.label(f.TICKET_TYPES, r.type)),
        _cell(s.label(f.CHANNELS, r.channel)),
        _cell(r.town),
        _cell(s.ticket_status(r.status)),
        _cell(s.time(r.closed_at) if r.closed_at else None),
        _cell(s.time(r.callback_at) if r.callback_at else None),
        _cell(s.label(f.SATISFACTION, r.satisfaction)),
        _cell(s.caller(r.caller_masked, r.caller_enc)),
    ]


def _spot_check_cells(s: Shown, i: str, x: Any) -> Cells:
    return [
        _cell(i),
        _cell(x.ticket_no, _ticket_href(x.ticket_no)),
        _cell(s.time(x.row.checked_at)),
        _cell(s.label(f.SPOT_RESULTS, x.row.result)),
        _cell(x.row.reason),
    ]


def _complaint_cells(s: Shown, i: str, x: Any) -> Cells:
    return [
        _cell(i),
        _cell(x.ticket_no, _ticket_href(x.ticket_no)),
        _cell(x.row.agent),
        _cell(s.time(x.row.ruled_at)),
        _cell(s.t("kpi.yes") if x.row.justified else s.t("kpi.no")),
        _cell(x.row.reason),
    ]


def _commendation_cells(s: Shown, i: str, x: Any) -> Cells:
    return [
        _cell(i),
        _cell(x.row.agent),
        _cell(x.row.date.isoformat()),
        _cell(s.label(f.COMMENDATION_KINDS, x.row.kind)),
        _cell(x.ticket_no, _ticket_href(x.ticket_no)),
    ]


_TABLES: dict[str, tuple[Any, tuple[str, ...], Any]] = {
    "calls": (
        kpi_records.calls,
        ("col.call_id", "col.entered", "col.outcome", "col.wait", "col.agent", "col.caller"),
        _call_cells,
    ),
    "tickets": (
        kpi_records.tickets,
        (
            "col.ticket_no",
            "col.created",
            "col.type",
            "col.channel",
            "col.town",
            "col.ticket_status",
            "col.closed",
            "col.callback",
            "col.satisfaction",
            "col.caller",
        ),
        _ticket_cells,
    ),
    "spot_checks": (
        kpi_records.spot_checks,
        ("col.id", "col.ticket_no", "col.checked", "col.result", "col.reason"),
        _spot_check_cells,
    ),
    "complaints": (
        kpi_records.complaints,
        ("col.id", "col.ticket_no", "col.agent", "col.ruled", "col.justified", "col.reason"),
        _complaint_cells,
    ),
    "commendations": (
        kpi_records.commendations,
        ("col.id", "col.agent", "col.date", "col.kind", "col.ticket_no"),
        _commendation_cells,
    ),
}
"""kind → (how the store finds its records by id, column titles, the cells of one record)."""


async def _records(request: web.Request, kind: str, ids: list[str]):  # noqa: ANN202
    """(column titles, rows of cells) of one page of ``ids`` of ``kind``."""
    store = request.app[STORE]
    s = Shown(request)
    t = s.t
    if kind in _TABLES:
        find, titles, cells = _TABLES[kind]
        found = await find(store, ids)
        columns = list(titles)
        rows = [
            cells(s, ref, found[ref]) if ref in found else _missing(ref, len(columns))
            for ref in ids
        ]
    elif kind in ("emergencies", "incidents"):
        # an emergency register row ("7"), or a level I/II incident ("incident:12"; platform
        # faults name incidents by bare id)
        def incident_of(raw: str) -> str | None:
            if raw.startswith("incident:"):
                return raw.split(":", 1)[1]
            return raw if kind == "incidents" else None

        found_i = await kpi_records.incidents(store, [i for i in map(incident_of, ids) if i])
        found_e = await kpi_records.emergencies(store, [r for r in ids if not incident_of(r)])
        columns = ["col.id", "col.kind", "col.title", "col.started", "col.responded", "col.note"]
        rows = []
        for raw in ids:
            iid = incident_of(raw)
            e = found_e.get(raw) if iid is None else None
            inc = found_i.get(iid) if iid is not None else None
            if e is not None:
                rows.append(
                    [
                        _cell(f"E{raw}", "/registers#emergencies"),
                        _cell(t(f"emergency.{e.kind}")),
                        _cell(e.title),
                        _cell(s.time(e.started_at)),
                        _cell(s.time(e.responded_at) if e.responded_at else None),
                        _cell(t("reg.force_majeure") if e.force_majeure else None),
                    ]
                )
            elif inc is not None:
                rows.append(
                    [
                        _cell(f"#{iid}", f"/incidents/{iid}"),
                        _cell(f"{t('col.incident')} {t('level.' + inc.peak_severity)}"),
                        _cell(inc.title or s.fault(inc.fault_type)),
                        _cell(s.time(inc.fault_started_at)),
                        _cell(s.time(inc.acknowledged_at) if inc.acknowledged_at else None),
                        _cell(f"{t('incident.detected')} {s.time(inc.detected_at)}"),
                    ]
                )
            else:
                rows.append(_missing(raw, len(columns)))
    else:  # staffing and reports name their items in words ("接话@2026-10-01", "monthly:2026-10")
        columns = ["col.item"]
        rows = [[_cell(i)] for i in ids]
    return [t(c) for c in columns], rows
