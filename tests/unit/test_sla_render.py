"""SLA renderings a spreadsheet and a terminal can take (issue 11, item 5). Pure.

CSV: UTF-8 with a BOM, every numeric column a number or empty, the qualifiers ("≥", "no data",
"insufficient coverage") in columns of their own. Table: every line within 100 display columns
(CJK counted as two), ``wide`` for every column.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import unicodedata
from zoneinfo import ZoneInfo

import pytest

from sla.compute import IncidentFact, Inputs, Scope, compute
from sla.coverage import CoverageFacts, FoundAtStart, FreshFact, RunFact
from sla.intervals import parse_period
from sla.render import COLUMNS, QUALIFIERS, render, render_csv, render_table
from sla.scope import all_scopes, checks_by_asset, upstream_map

SH = ZoneInfo("Asia/Shanghai")
NOV = parse_period("2026-11", SH)
AFTER = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
NUMERIC = [k for k, _, _ in COLUMNS if k != "scope"]
LONG = "asset:" + "a-very-long-asset-name-that-an-inventory-may-well-have-" + "x" * 8


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH).astimezone(dt.UTC)


def width(line: str) -> int:
    """Display columns: East Asian wide and fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def month(config, stopped_days: int = 2):
    """Every scope of the shipped inventory over a November with a stop, failures and breaches:
    sufficient, insufficient and no-data rows, an MTBF lower bound, a fault found at restart."""
    checks = checks_by_asset(config)
    keys = frozenset((a, c) for a, names in checks.items() for c in names)
    restart = at(1 + 10 + stopped_days)
    runs = (RunFact(1, NOV.start, at(11), True, keys), RunFact(2, restart, NOV.end, True, keys))
    fresh = tuple(
        FreshFact(r.id, a, c, r.started_at, r.ended_at, r.started_at, r.ended_at)
        for r in runs
        for a, c in sorted(keys)
    )
    incidents = [
        IncidentFact(
            id=i,
            fault_started_at=start,
            detected_at=start,
            peak_severity="I",
            root_asset="mstp-voice",
            recovered_at=start + dt.timedelta(seconds=seconds),
            recovery_kind=kind,
            services=frozenset({"voice-intake"}),
        )
        for i, start, seconds, kind in (
            (1, at(5, 10), 900.5, "automatic"),  # a breach of the 15 min
            (2, at(20, 9), 30 * 3600, "manual"),  # and of the 24 h
            (3, at(22, 9), 600, "automatic"),
        )
    ]
    found = (FoundAtStart(2, at(20, 9), at(19, 23, 59)),)
    inputs = Inputs(
        incidents=incidents,
        upstream=upstream_map(config),
        coverage=CoverageFacts(runs, fresh, checks, found),
    )
    scopes = all_scopes(config) + [Scope("asset", LONG[6:], frozenset({LONG[6:]}), frozenset())]
    return [compute(inputs, s, NOV, config.sla.targets(), AFTER) for s in scopes]


def parse(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # the BOM: Excel in a Chinese locale reads UTF-8
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_a_bom_and_only_numbers_in_numeric_columns(lingshui_config):
    reports = month(lingshui_config)
    rows = parse(render_csv(reports))
    assert list(rows[0]) == ["period", *(k for k, _, _ in COLUMNS), *QUALIFIERS]
    for row in rows:
        for key in NUMERIC:
            if row[key] != "":
                float(row[key])  # a number, or nothing: never "≥711.3", never "no data"
    by_scope = {r["scope"]: r for r in rows}
    quiet = by_scope["service:ticket-exchange"]  # no failure: MTBF is a lower bound
    assert quiet["mtbf_qualifier"] == "≥" and float(quiet["mtbf_hours"]) == 672.0
    assert quiet["coverage_status"] == "insufficient coverage"  # 672 h of 720 h watched
    assert float(quiet["coverage_percent"]) == pytest.approx(672 / 720 * 100, abs=1e-4)
    voice = by_scope["service:voice-intake"]
    # up time ÷ failures (issue 11, 9a): (672 h watched − 109,500.5 s down) / 3 = 769,899.83 s,
    # 213.861 h truncated (not 672 h / 3 = 224 h: downtime is not time between failures)
    assert voice["mtbf_qualifier"] == "" and float(voice["mtbf_hours"]) == 213.861
    assert int(voice["breaches"]) == 2
    unwatched = by_scope[LONG]  # no check in the inventory: never watched
    assert unwatched["coverage_status"] == "no data"
    assert all(unwatched[k] == "" for k in ("availability_percent", "mtbf_hours", "failures"))


def test_csv_of_a_fully_watched_month_has_no_qualifier(lingshui_config):
    reports = [r for r in month(lingshui_config, stopped_days=0) if r.scope == "site:lingshui"]
    [row] = parse(render(reports, lingshui_config, "csv", "zh-CN", AFTER))
    assert row["coverage_status"] == "" and row["coverage_percent"] == "100"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_table_fits_100_columns(lingshui_config, lang):
    reports = month(lingshui_config)
    text = render_table(reports, lingshui_config, lang)
    lines = text.splitlines()
    assert max(width(line) for line in lines) <= 100, max(lines, key=width)
    assert LONG in lines  # too long for its column: on a line of its own, the figures under it
    assert any(line.startswith(" " * 20) and "-" in line for line in lines)
    assert ("无监测数据 no data" if lang == "zh-CN" else "no data") in text
    assert "insufficient coverage" in text
    assert "#2" in text and "#1" in text  # the breaches
    # a breach of a row under the threshold says so on its line, as the row does
    kind, status = ("automatic", "") if lang == "en" else ("自动恢复", "监测覆盖不足 ")
    assert f"service:voice-intake  #1  {kind}  900.5s > 900s  {status}insufficient coverage" in text
    wide = render_table(reports, lingshui_config, lang, wide=True)
    # every column is there, on one line per scope (wider than 100: asked for)
    header = wide.splitlines()[1]
    for _, zh, en in COLUMNS:
        assert (en if lang == "en" else zh) in header
    assert max(width(line) for line in wide.splitlines()) > 100


def test_md_marks_the_coverage_too(lingshui_config):
    reports = month(lingshui_config)
    md = render(reports, lingshui_config, "md", "en", AFTER)
    assert "| insufficient coverage |" in md and "| no data |" in md
    assert "## Monitoring coverage" in md and "## Found when monitoring resumed" in md
    same = [dataclasses.replace(r, coverage=None) for r in reports[:1]]
    assert "Monitoring coverage" not in render(same, lingshui_config, "md", "en", AFTER)
