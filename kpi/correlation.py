"""Network ↔ service: what each incident that impaired voice intake or ticket exchange cost the
citizens (calls offered and abandoned during it, tickets delayed) and the answer rate with and
without incident time. Pure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kpi.compute import ANSWERED, Context, events_until, offered_calls
from kpi.model import Facts
from sla.intervals import Interval, union


@dataclass(frozen=True)
class IncidentImpact:
    incident: str
    title: str
    services: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    calls_offered: list[str]
    calls_abandoned: list[str]
    tickets_delayed: list[str]


@dataclass(frozen=True)
class Correlation:
    incidents: list[IncidentImpact]
    answer_rate_all: tuple[int, int]  # answered, offered
    answer_rate_outside: tuple[int, int]


def _first_dispatch(ticket, as_of):
    return next((e.at for e in events_until(ticket, as_of) if e.kind == "dispatched"), None)


def correlate(facts: Facts, ctx: Context) -> Correlation:
    rules = ctx.rules
    counted, _ = offered_calls(facts.calls, ctx)
    impacts: list[IncidentImpact] = []
    voice: list[Interval] = []
    for f in sorted(facts.faults, key=lambda f: f.started_at):
        hit_voice = set(f.services) & set(rules.voice_services)
        hit_ticket = set(f.services) & set(rules.ticket_services)
        if not (hit_voice or hit_ticket):
            continue
        start = max(f.started_at, ctx.window.start)
        end = min(f.recovered_at or ctx.as_of, ctx.window.end, ctx.as_of)
        if end <= start:
            continue
        during = [c for c in counted if start <= c.entered_at < end] if hit_voice else []
        delayed = []
        if hit_ticket:
            for t in facts.tickets:
                if start <= t.created_at < end:
                    first = _first_dispatch(t, ctx.as_of)
                    if first is None or first >= end:
                        delayed.append(t.no)
        if hit_voice:
            voice.append((start, end))
        impacts.append(
            IncidentImpact(
                str(f.id),
                f.title,
                tuple(f.services),
                start,
                end,
                [c.id for c in during],
                [c.id for c in during if c.outcome not in ANSWERED],
                delayed,
            )
        )
    spans = union(voice)
    outside = [c for c in counted if not any(s <= c.entered_at < e for s, e in spans)]

    def rate(calls):
        return (sum(c.outcome in ANSWERED for c in calls), len(calls))

    return Correlation(impacts, rate(counted), rate(outside))
