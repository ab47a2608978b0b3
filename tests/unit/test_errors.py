"""The one exception tree: every deliberate error's class decides its HTTP status and exit code,
and the CLI prints it as one or two lines (every located issue for a file), never a traceback."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner

from alerting.notify import NotifierConfigError
from incident_runbooks.loader import RunbookError
from noc.cli.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, error_text, exit_on_error
from noc.config import ConfigError
from noc.core.errors import (
    ConflictError,
    InputError,
    NocError,
    NotFoundError,
    UnavailableError,
)
from noc.core.time import from_epoch, parse_instant
from noc.core.yamlsource import SourceIssue
from noc.maintenance import MaintenanceRequestError
from noc.store.db import DatabaseURLError
from noc.store.incidents import (
    IncidentConflict,
    IncidentError,
    IncidentNotFound,
    IncidentRequestError,
)
from probes.diag import DiagError
from probes.safety import ProbeSafetyError
from sla.intervals import PeriodError
from sla.report import ScopeError, UnknownScope

SH = ZoneInfo("Asia/Shanghai")
ISSUE = SourceIssue("noc.yaml", 3, "site.title", "required key is missing")


@pytest.mark.parametrize(
    ("error", "status", "code", "exit_code"),
    [
        (ConfigError([ISSUE]), 400, "bad_request", 2),
        (RunbookError([ISSUE]), 400, "bad_request", 2),
        (PeriodError("no such period"), 400, "bad_request", 2),
        (ScopeError("cannot read scope"), 400, "bad_request", 2),
        (UnknownScope("unknown service 'x'"), 404, "not_found", 2),  # typed as an option: usage
        (MaintenanceRequestError("name at least one asset"), 400, "bad_request", 2),
        (IncidentNotFound("no incident #9"), 404, "not_found", 1),
        (IncidentConflict("cannot close incident #1: it is open"), 409, "conflict", 1),
        (IncidentRequestError("closing an incident needs a cause note"), 400, "bad_request", 2),
        (DatabaseURLError("unsupported database 'mysql'"), 400, "bad_request", 2),
        (NotifierConfigError("cannot use channel"), 400, "bad_request", 2),
        (ProbeSafetyError("no blackhole"), 400, "bad_request", 2),
        (DiagError("traceroute failed"), 503, "unavailable", 1),
    ],
)
def test_each_deliberate_error_answers_by_its_class(error, status, code, exit_code):
    assert isinstance(error, NocError)
    assert (error.status, error.code, error.exit_code) == (status, code, exit_code)
    assert error.reason == str(error)


def test_the_old_bases_still_catch_them():
    for error in (
        ConfigError([ISSUE]),
        PeriodError("x"),
        ScopeError("x"),
        MaintenanceRequestError("x"),
        DatabaseURLError("x"),
        NotifierConfigError("x"),
    ):
        assert isinstance(error, ValueError)
    assert isinstance(UnknownScope("x"), LookupError)
    assert isinstance(IncidentNotFound("x"), IncidentError | NotFoundError)
    assert isinstance(IncidentConflict("x"), IncidentError) and isinstance(
        IncidentConflict("x"), ConflictError
    )
    assert not isinstance(IncidentConflict("x"), NotFoundError)


# -- instants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T02:00", dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)),  # site time
        ("2026-12-01 02:00", dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)),
        ("2026-12-01", dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)),  # a date is its midnight
        ("2026-12-01T02:00Z", dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)),
        ("0001-01-01T10:00+08:00", dt.datetime(1, 1, 1, 2, tzinfo=dt.UTC)),  # year 1 in UTC
    ],
)
def test_parse_instant_reads_site_time_and_offsets(text, expected):
    value = parse_instant(text, SH)
    assert value == expected and value.tzinfo is dt.UTC


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tomorrow", "cannot read time 'tomorrow'; use e.g. 2026-11-01"),
        ("2026-13-01", "cannot read time '2026-13-01'; use"),
        ("0001-01-01T02:00", "cannot read time '0001-01-01T02:00': out of range"),
        ("9999-12-31T23:00-05:00", "out of range"),
        (12, "not a string"),
    ],
)
def test_parse_instant_refuses_with_a_reason(text, reason):
    with pytest.raises(InputError) as err:
        parse_instant(text, SH)
    assert reason in err.value.reason


def test_parse_instant_raises_the_callers_subclass():
    with pytest.raises(MaintenanceRequestError, match="out of range"):
        parse_instant("0001-01-01T02:00", SH, error=MaintenanceRequestError)


def test_from_epoch_is_aware_utc():
    assert from_epoch(0) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# -- the CLI edge -----------------------------------------------------------------------------


def test_a_file_error_prints_every_issue_then_what_and_how_many():
    other = SourceIssue("noc.yaml", 9, "assets[0].name", "must be lowercase")
    assert error_text(ConfigError([ISSUE, other])).splitlines() == [
        "noc.yaml:3 site.title: required key is missing",
        "noc.yaml:9 assets[0].name: must be lowercase",
        "配置有误 / config invalid: 2 error(s)",
    ]


def test_a_long_reason_is_cut_to_its_first_and_last_line():
    text = error_text(
        DiagError("traceroute failed: Traceback (most recent call last):\n  x\n  y\nE: z")
    )
    assert text.splitlines() == [
        "诊断无法执行 / diagnostic could not run: traceroute failed: Traceback (most recent call last):",
        "  E: z",
    ]
    assert error_text(IncidentNotFound("no incident #9")) == "未找到 / not found: no incident #9"


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (None, EXIT_OK),
        (IncidentConflict("cannot acknowledge incident #1: it is acknowledged"), EXIT_REFUSED),
        (UnavailableError("store down"), EXIT_REFUSED),
        (MaintenanceRequestError("unknown asset(s): ghost"), EXIT_USAGE),
    ],
)
def test_exit_on_error_turns_a_refusal_into_its_exit_code(error, exit_code):
    @click.command()
    @click.option("--n", type=int, default=1)
    @exit_on_error
    def cmd(n: int) -> None:
        if error is not None:
            raise error
        click.echo(f"ok {n}")

    result = CliRunner().invoke(cmd, [])
    assert result.exit_code == exit_code
    if error is None:
        assert result.output == "ok 1\n"
    else:
        assert error.reason in result.output and "Traceback" not in result.output
        assert len(result.output.splitlines()) == 1
    usage = CliRunner().invoke(cmd, ["--n", "many"])  # click's own usage errors stay exit 2
    assert usage.exit_code == EXIT_USAGE
