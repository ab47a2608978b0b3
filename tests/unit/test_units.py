import pytest

from noc.core.units import format_bandwidth, format_duration, parse_bandwidth, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("200ms", 0.2),
        ("1s", 1.0),
        ("1.5s", 1.5),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        (3, 3.0),
        (0.25, 0.25),
        ("7", 7.0),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["soon", "5 minutes", "-1s", True, None, "1w"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("text", "bps"),
    [
        ("10M", 10_000_000),
        ("50Mbit", 50_000_000),
        ("512k", 512_000),
        ("1G", 1_000_000_000),
        ("2.5M", 2_500_000),
        (10_000_000, 10_000_000),
        ("100mbps", 100_000_000),
    ],
)
def test_parse_bandwidth(text, bps):
    assert parse_bandwidth(text) == bps


@pytest.mark.parametrize("bad", ["fifty", "0", "10X", -5, False])
def test_parse_bandwidth_rejects(bad):
    with pytest.raises(ValueError):
        parse_bandwidth(bad)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.2, "200ms"), (1.0, "1s"), (300.0, "5m"), (7200.0, "2h"), (90.0, "90s")]
)
def test_format_duration_round_trips(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("bps", "text"), [(10_000_000, "10M"), (50_000_000, "50M"), (1_500, "1500")]
)
def test_format_bandwidth(bps, text):
    assert format_bandwidth(bps) == text
