"""Table-driven tests of the pure SNMP rate math (no sockets)."""

from __future__ import annotations

import pytest

from probes.base import ResultCode
from probes.snmp import SnmpCredentials, SnmpParams, build_result, classify_error
from probes.snmp.rates import (
    AgentSample,
    InterfaceSample,
    agent_restarted,
    choose_bandwidth,
    compute_rates,
    counter_delta,
    select_interfaces,
)

C32 = 2**32
C64 = 2**64


@pytest.mark.parametrize(
    ("prev", "cur", "bits", "expected"),
    [
        (100, 250, 64, (150, None)),
        (100, 100, 64, (0, None)),
        (C64 - 1000, 500, 64, (1500, "counter_wrap")),
        (10**9, 100, 64, (None, "counter_reset")),
        (C32 - 10, 5, 32, (15, "counter_wrap")),
        (5000, 3, 32, (None, "counter_reset")),
        (None, 5, 32, (None, None)),
        (5, None, 64, (None, None)),
    ],
)
def test_counter_delta(prev, cur, bits, expected):
    assert counter_delta(prev, cur, bits) == expected


def _if(index=1, name="wan0", **kw):
    base = dict(descr=f"{name} descr", admin_status=1, oper_status=1, high_speed_mbps=10000)
    base.update(kw)
    return InterfaceSample(if_index=index, name=name, **base)


def _agent(at, uptime, *ifaces):
    return AgentSample(at=at, uptime_ticks=uptime, interfaces={i.if_index: i for i in ifaces})


@pytest.mark.parametrize(
    ("prev_at", "prev_up", "cur_at", "cur_up", "restarted"),
    [
        (100.0, 50_000, 160.0, 56_000, False),  # 60 s later, uptime +60 s
        (100.0, 50_000, 160.0, 1_000, True),  # uptime went back
        (100.0, 500, 160.0, 2_000, True),  # up 20 s but 60 s passed: restarted in between
        (100.0, C32 - 1000, 160.0, 5_000, False),  # TimeTicks wrap after 497 days
        (100.0, None, 160.0, 10, False),  # no uptime: cannot tell
    ],
)
def test_agent_restarted(prev_at, prev_up, cur_at, cur_up, restarted):
    assert agent_restarted(_agent(prev_at, prev_up), _agent(cur_at, cur_up)) is restarted


@pytest.mark.parametrize(
    ("contract", "sample", "expected"),
    [
        ({"wan0": 10_000_000}, _if(), (10_000_000, "contract")),
        ({"wan0 descr": 50_000_000}, _if(), (50_000_000, "contract")),
        ({}, _if(), (10_000_000_000, "ifHighSpeed")),
        ({}, _if(high_speed_mbps=0), (None, None)),
        ({"other": 1}, _if(high_speed_mbps=None), (None, None)),
    ],
)
def test_choose_bandwidth(contract, sample, expected):
    assert choose_bandwidth(sample, contract) == expected


def test_first_poll_has_no_rates():
    report = compute_rates(None, _agent(10.0, 1000, _if(in_octets=5, out_octets=5)))
    assert report.interval_seconds is None
    assert report.interfaces[1].in_bps is None
    assert report.findings == []


def test_rates_and_utilisation_against_contract():
    prev = _agent(100.0, 10_000, _if(in_octets=1_000, out_octets=0, in_errors=1, out_discards=0))
    cur = _agent(
        110.0,
        11_000,
        _if(in_octets=1_000 + 6_250_000, out_octets=1_250_000, in_errors=11, out_discards=5),
    )
    report = compute_rates(prev, cur, {"wan0": 10_000_000})
    rates = report.interfaces[1]
    assert report.interval_seconds == pytest.approx(10.0)
    assert rates.in_bps == pytest.approx(5_000_000)  # 6.25 MB * 8 / 10 s
    assert rates.out_bps == pytest.approx(1_000_000)
    assert rates.in_utilisation_ratio == pytest.approx(0.5)
    assert rates.out_utilisation_ratio == pytest.approx(0.1)
    assert rates.in_errors_per_second == pytest.approx(1.0)
    assert rates.out_discards_per_second == pytest.approx(0.5)
    assert report.findings == []


def test_counter64_wrap_gives_rate_and_finding():
    prev = _agent(0.0, 1000, _if(in_octets=C64 - 100, out_octets=0))
    cur = _agent(1.0, 1100, _if(in_octets=900, out_octets=0))
    report = compute_rates(prev, cur)
    assert report.interfaces[1].in_bps == pytest.approx(8000)
    assert "counter_wrap" in report.findings


def test_counter_reset_gives_no_rate_for_that_counter():
    prev = _agent(0.0, 1000, _if(in_octets=10**12, out_octets=10))
    cur = _agent(10.0, 2000, _if(in_octets=10, out_octets=20))
    report = compute_rates(prev, cur)
    assert report.interfaces[1].in_bps is None
    assert report.interfaces[1].out_bps == pytest.approx(8.0)
    assert report.findings == ["counter_reset"]


def test_counter32_error_wrap():
    prev = _agent(0.0, 1000, _if(in_errors=C32 - 2))
    cur = _agent(2.0, 1200, _if(in_errors=2))
    assert compute_rates(prev, cur).interfaces[1].in_errors_per_second == pytest.approx(2.0)


def test_agent_restart_gives_finding_and_no_rates():
    prev = _agent(0.0, 900_000, _if(in_octets=10**9, out_octets=10**9))
    cur = _agent(60.0, 3_000, _if(in_octets=1_000, out_octets=1_000))
    report = compute_rates(prev, cur)
    assert report.findings == ["agent_restarted"]
    assert report.interval_seconds is None
    assert report.interfaces[1].in_bps is None


def test_if_index_renumbered_gives_no_rate_for_it():
    prev = _agent(0.0, 1000, _if(1, "wan0", in_octets=100), _if(2, "lan0", in_octets=100))
    cur = _agent(10.0, 2000, _if(1, "lan0", in_octets=500), _if(2, "wan0", in_octets=500))
    report = compute_rates(prev, cur)
    assert report.interfaces[1].in_bps is None and report.interfaces[2].in_bps is None
    assert report.findings == ["if_index_changed"]


def test_new_interface_has_no_rate_yet():
    prev = _agent(0.0, 1000, _if(1, "wan0", in_octets=100))
    cur = _agent(10.0, 2000, _if(1, "wan0", in_octets=200), _if(7, "vpn0", in_octets=50))
    report = compute_rates(prev, cur)
    assert report.interfaces[1].in_bps == pytest.approx(80.0)
    assert report.interfaces[7].in_bps is None


@pytest.mark.parametrize(
    ("wanted", "labels", "missing"),
    [
        ([], ["wan0", "lan0"], []),
        (["lan0"], ["lan0"], []),
        (["wan0 descr"], ["wan0"], []),
        (["wan0", "gone"], ["wan0"], ["gone"]),
    ],
)
def test_select_interfaces(wanted, labels, missing):
    sample = _agent(0.0, 1, _if(1, "wan0"), _if(2, "lan0"))
    chosen, absent = select_interfaces(sample, wanted)
    assert [c.label for c in chosen] == labels
    assert absent == missing


def test_build_result_shape_and_findings():
    prev = _agent(
        0.0,
        1000,
        _if(1, "wan0", in_octets=0, out_octets=0),
        _if(2, "lan0", oper_status=2, in_octets=0, out_octets=0),
    )
    cur = _agent(
        8.0,
        1800,
        _if(1, "wan0", in_octets=1_000_000, out_octets=0),
        _if(2, "lan0", oper_status=2, in_octets=0, out_octets=0),
    )
    result = build_result(
        prev, cur, {"sys_name": "cpe"}, ["wan0", "lan0", "gone"], {"wan0": 10_000_000}
    )
    assert result.ok and result.result is ResultCode.OK
    assert result.values["if.wan0.in_bps"] == pytest.approx(1_000_000)
    assert result.values["if.wan0.in_utilisation_ratio"] == pytest.approx(0.1)
    assert result.values["if.lan0.oper_up"] == 0.0
    assert result.values["interfaces_oper_down"] == 1.0
    assert set(result.findings) == {"interface_missing", "interface_down"}
    assert result.info["missing_interfaces"] == ["gone"]
    assert [row["label"] for row in result.info["interfaces"]] == ["wan0", "lan0"]
    assert result.info["interfaces"][0]["bandwidth_source"] == "contract"


@pytest.mark.parametrize(
    ("kwargs", "ok"),
    [
        ({"version": "2c", "community": "public"}, True),
        ({"version": "2c"}, False),
        ({"version": "3", "user": "noc", "auth_key": "12345678", "priv_key": "abcdefgh"}, True),
        ({"version": "3", "user": "noc", "auth_key": "short", "priv_key": "abcdefgh"}, False),
        ({"version": "3", "auth_key": "12345678", "priv_key": "abcdefgh"}, False),
        ({"version": "2c", "community": "x", "unknown": 1}, False),
        (
            {
                "version": "3",
                "user": "u",
                "auth_key": "12345678",
                "priv_key": "12345678",
                "priv_protocol": "des",
            },
            False,
        ),
    ],
)
def test_credentials_validation(kwargs, ok):
    if ok:
        SnmpCredentials(**kwargs)
    else:
        with pytest.raises(ValueError):
            SnmpCredentials(**kwargs)


def test_params_parse_durations_and_forbid_extra():
    assert SnmpParams(timeout="500ms").timeout == pytest.approx(0.5)
    with pytest.raises(ValueError):
        SnmpParams(timout="1s")


def test_secrets_do_not_leak_in_repr():
    creds = SnmpCredentials(version="2c", community="s3cret-community")
    assert "s3cret" not in repr(creds)


@pytest.mark.parametrize(
    ("indication", "version", "code"),
    [
        ("RequestTimedOut", "2c", ResultCode.TIMEOUT),
        ("WrongDigest", "3", ResultCode.AUTH_FAILED),
        ("UnknownUserName", "3", ResultCode.AUTH_FAILED),
        ("DecryptionError", "3", ResultCode.AUTH_FAILED),
        ("ParseError", "2c", ResultCode.MALFORMED),
    ],
)
def test_classify_error(indication, version, code):
    from pysnmp.proto import errind

    got, reason = classify_error(getattr(errind, indication)("x"), version=version)
    assert got is code
    if indication == "RequestTimedOut" and version == "2c":
        assert "wrong community" in reason


def test_classify_port_unreachable_as_refused():
    assert classify_error(ConnectionRefusedError(), version="2c")[0] is ResultCode.REFUSED


async def test_probe_with_bad_credentials_is_an_error_value_without_secrets():
    from probes.base import Target
    from probes.snmp import SnmpPoller

    probe_snmp = SnmpPoller().probe

    missing = await probe_snmp(Target("127.0.0.1"))
    assert missing.result is ResultCode.ERROR and not missing.ok
    bad = await probe_snmp(
        Target(
            "127.0.0.1",
            extra={
                "credentials": {"version": "3", "user": "u", "auth_key": "tiny-s3", "priv_key": "x"}
            },
        )
    )
    assert bad.result is ResultCode.ERROR
    assert "tiny-s3" not in bad.reason
    assert "8 characters" in bad.reason


async def test_probe_accepts_params_as_mapping_and_rejects_unknown_keys():
    from probes.base import Target
    from probes.snmp import SnmpPoller

    probe_snmp = SnmpPoller().probe

    target = Target("127.0.0.1", extra={"credentials": {"version": "2c", "community": "c"}})
    result = await probe_snmp(target, {"timout": "1s"})
    assert result.result is ResultCode.ERROR and "timout" in result.reason
