"""The monthly report's inputs from the store: one read for the KPI facts (as ``noc kpi report``
reads them), the ticket counts and calls of the months compared, the SLA rows of the site and
its services (as ``noc sla report`` computes them), and the titles of the cited KB entries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kpi import breakdown as bd
from kpi.compute import Scope
from kpi.monthly import MonthInputs, windows_needed
from noc.config import NocConfig
from noc.ingest import fields
from noc.ingest.registers import EMERGENCY_KINDS
from noc.kpi_view import kpi_document
from noc.store.kpi_facts import load_facts
from noc.store.repo import Store
from noc.store.report_facts import calls_between, kb_titles, ticket_counts
from sla.report import build as sla_build
from sla.report import document as sla_document
from sla.report import parse_scope as sla_scopes

EMERGENCY_LABELS = dict(EMERGENCY_KINDS.labels)  # the register's own names (台风, 停电, …)


async def gather(
    store: Store, config: NocConfig, runbooks, period: str, as_of: dt.datetime
) -> MonthInputs:
    tz = ZoneInfo(config.site.timezone)
    months = bd.months_of(period, tz)
    window = months.current
    rules = config.kpi.rules()
    facts = await load_facts(store, window.start, window.end)
    kpi = kpi_document(facts, window, as_of, Scope(), rules, tz)
    counts = {
        w.label: await ticket_counts(store, w.start, min(w.end, as_of))
        for w in windows_needed(months)
    }
    calls = {
        w.label: await calls_between(store, w.start, min(w.end, as_of))
        for w in (months.previous, months.last_year)
    }
    sla_rows = await sla_build(store, config, runbooks, [window], sla_scopes(config, None), as_of)
    titles = await kb_titles(
        store, {t.kb_entry for t in facts.tickets if t.kb_entry and window.start <= t.created_at}
    )
    scope_titles = {f"site:{config.site.name}": (config.site.title.zh, config.site.title.get("en"))}
    scope_titles.update(
        {f"service:{s.name}": (s.title.zh, s.title.get("en")) for s in config.services}
    )
    return MonthInputs(
        site_title=(config.site.title.zh, config.site.title.get("en")),
        months=months,
        as_of=as_of,
        tz=tz,
        rules=rules,
        facts=facts,
        kpi=kpi,
        ticket_counts=counts,
        calls=calls,
        sla=sla_document(sla_rows, config, as_of),
        kb_titles=titles,
        labels={
            "type": dict(fields.TICKET_TYPES.labels),
            "channel": dict(fields.CHANNELS.labels),
            "satisfaction": dict(fields.SATISFACTION.labels),
            "commendation": dict(fields.COMMENDATION_KINDS.labels),
            "emergency": EMERGENCY_LABELS,
        },
        scope_titles=scope_titles,
    )
