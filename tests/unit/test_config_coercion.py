"""Which keys take an unquoted YAML number as text (docs/config.md, "Numbers where text is
meant"), and that every other text key refuses one with "put it in quotes"."""

from __future__ import annotations

import pytest

from noc.config import ConfigError, parse_config

BASE = """
site: {name: lingshui, title: {zh: 陵水}}
assets:
  - name: ce-router
    kind: router
    address: 198.18.10.1
    labels: {floor: 3, room: b2}
    snmp: {SNMP}
    checks: [{type: snmp, interfaces: [1, ge-0/0/2]}]
  - name: mstp-voice
    kind: mstp_circuit
    bandwidth: 10M
    interface: 7
    depends_on: [ce-router]
"""
V3 = "{version: 3, user: noc, auth_key: abcdefgh, priv_key: abcdefgh}"


def config(snmp: str = V3):
    return parse_config(BASE.replace("{SNMP}", snmp), "noc.yaml")


def test_snmp_version_3_unquoted_is_the_string_3():
    cfg = config()
    assert cfg.asset("ce-router").snmp.version == "3"
    assert config(V3.replace("version: 3", 'version: "3"')) == cfg


def test_interfaces_and_label_values_take_numbers_as_their_digits():
    cfg = config()
    router = cfg.asset("ce-router")
    assert router.labels == {"floor": "3", "room": "b2"}
    assert router.checks[0].interfaces == ["1", "ge-0/0/2"]
    assert cfg.asset("mstp-voice").interface == "7"


def test_snmp_version_2_is_still_refused():
    with pytest.raises(ConfigError) as exc_info:
        config("{version: 2, community: public}")
    assert [i.message for i in exc_info.value.issues] == ["must be 2c or 3"]


@pytest.mark.parametrize(
    ("snmp", "key"),
    [
        ("{version: 2c, community: 0123}", "community"),  # YAML 1.1: octal 83
        ("{version: 3, user: 1001, auth_key: abcdefgh, priv_key: abcdefgh}", "user"),
        ("{version: 3, user: noc, auth_key: 12345678, priv_key: abcdefgh}", "auth_key"),
    ],
)
def test_text_that_a_number_would_change_must_be_quoted(snmp, key):
    with pytest.raises(ConfigError) as exc_info:
        config(snmp)
    (issue,) = exc_info.value.issues
    assert issue.path == f"assets[0].snmp.{key}"
    assert issue.message.startswith("must be text: put it in quotes")


def test_grafana_url_is_optional_and_kept_without_its_trailing_slash():
    assert config().grafana is None
    cfg = parse_config(
        BASE.replace("{SNMP}", V3) + "grafana: {url: 'https://noc.example/grafana/'}\n", "noc.yaml"
    )
    assert cfg.grafana.url == "https://noc.example/grafana"
    with pytest.raises(ConfigError, match="grafana.url: must be an http"):
        parse_config(BASE.replace("{SNMP}", V3) + "grafana: {url: 'grafana:3000'}\n", "noc.yaml")
