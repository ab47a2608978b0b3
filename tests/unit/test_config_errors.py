"""Every config error names the file, the line and the key path, exactly.

One bad file per message in tests/data/config; each file states its expected messages in
``# expect:`` comments (``{file}`` stands for the path given to the loader).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from noc.config import ConfigError, load_config

DATA = Path(__file__).resolve().parent.parent / "data" / "config"
BAD_FILES = sorted(DATA.glob("*.yaml"))


def expected_messages(path: Path) -> list[str]:
    return [
        line.split("# expect: ", 1)[1].rstrip("\n").replace("{file}", str(path))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect: ")
    ]


def test_there_is_a_bad_file_per_message():
    assert len(BAD_FILES) >= 20
    assert all(expected_messages(p) for p in BAD_FILES), "every bad file states what it expects"


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_config_reports_exact_messages(path: Path):
    with pytest.raises(ConfigError) as exc_info:
        load_config(path)
    assert [str(issue) for issue in exc_info.value.issues] == expected_messages(path)


def test_all_errors_of_a_pass_are_reported_at_once(tmp_path: Path):
    bad = tmp_path / "noc.yaml"
    bad.write_text(
        "site: {name: lingshui, title: {zh: 陵水}}\n"
        "assets:\n"
        "  - {name: a, kind: router, depends_on: [x]}\n"
        "  - {name: b, kind: router, depends_on: [y]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc_info:
        load_config(bad)
    assert [str(i) for i in exc_info.value.issues] == [
        f"{bad}:3 assets[0].depends_on[0]: unknown asset 'x'",
        f"{bad}:4 assets[1].depends_on[0]: unknown asset 'y'",
    ]


def test_unreadable_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_environment_supplies_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NOC_TEST_COMMUNITY", "s3cret-community")
    cfg_file = tmp_path / "noc.yaml"
    cfg_file.write_text(
        "site: {name: lingshui, title: {zh: 陵水}}\n"
        "assets:\n"
        "  - name: r\n    kind: router\n    address: 198.18.10.1\n"
        "    snmp: {community: '${NOC_TEST_COMMUNITY}'}\n"
        "    checks: [{type: snmp}]\n"
        "  - name: s\n    kind: switch\n    address: 198.18.10.3\n"
        "    snmp: {community: '${NOC_TEST_UNSET_X:-fallback-community}'}\n",
        encoding="utf-8",
    )
    cfg = load_config(cfg_file)
    assert cfg.asset("r").snmp.community.get_secret_value() == "s3cret-community"
    assert cfg.asset("s").snmp.community.get_secret_value() == "fallback-community"
    assert "s3cret" not in repr(cfg)


def test_net_snmp_protocol_spellings_load(tmp_path: Path):
    """``auth_protocol: SHA-256`` (net-snmp's spelling, any case) loads as ``sha256``, for an
    agent's credentials and for a trap user alike."""
    good = tmp_path / "noc.yaml"
    good.write_text(
        "site: {name: lingshui, title: {zh: 陵水}}\n"
        "traps:\n"
        "  listen: 127.0.0.1:1162\n"
        "  users:\n"
        "    - {user: trap, engine_id: '0x80001f8880aabbccdd', auth_protocol: SHA,\n"
        "       auth_key: long-enough-key, priv_protocol: aes-256-c, priv_key: long-enough-key}\n"
        "assets:\n"
        "  - name: ce-router\n"
        "    kind: router\n"
        "    address: 198.18.10.1\n"
        "    snmp:\n"
        '      version: "3"\n'
        "      user: noc\n"
        "      auth_protocol: SHA-256\n"
        "      auth_key: long-enough-key\n"
        "      priv_protocol: AES\n"
        "      priv_key: long-enough-key\n",
        encoding="utf-8",
    )
    config = load_config(good)
    snmp = config.asset("ce-router").snmp
    assert (snmp.auth_protocol, snmp.priv_protocol) == ("sha256", "aes128")
    [user] = config.traps.users
    assert (user.auth_protocol, user.priv_protocol) == ("sha", "aes256c")
