"""The shipped Lingshui inventory: what the tender lists, at the lab's addresses."""

import ipaddress
from collections import Counter

from noc.config import SipCheck, SnmpCheck

TEST_RANGE = ipaddress.ip_network("198.18.0.0/15")


def test_inventory_has_the_tendered_assets(lingshui_config):
    kinds = Counter(a.kind for a in lingshui_config.assets)
    assert kinds == {
        "mstp_circuit": 2,
        "internet_line": 1,
        "voice_gateway": 1,
        "phone": 19,
        "router": 1,
    }
    bandwidth = {a.name: a.bandwidth for a in lingshui_config.assets if a.bandwidth}
    assert bandwidth == {
        "mstp-voice": 10_000_000,
        "mstp-ticket": 10_000_000,
        "internet": 50_000_000,
    }


def test_every_probe_address_is_in_the_test_range(lingshui_config):
    addresses = lingshui_config.probe_addresses()
    assert len(addresses) >= 24
    assert all(ipaddress.ip_address(a) in TEST_RANGE for a in addresses)


def test_dependencies_follow_the_site(lingshui_config):
    cfg = lingshui_config
    assert all(cfg.asset(f"phone-{i:02d}").depends_on == ["voice-gw"] for i in range(1, 20))
    assert cfg.asset("mstp-voice").depends_on == ["ce-router"]
    trunk = next(c for c in cfg.asset("voice-gw").checks if c.check_name == "trunk")
    assert isinstance(trunk, SipCheck) and trunk.depends_on == ["mstp-voice"]


def test_circuits_are_polled_on_the_ce_router(lingshui_config):
    for name in ("mstp-voice", "mstp-ticket", "internet"):
        snmp = [c for c in lingshui_config.asset(name).checks if isinstance(c, SnmpCheck)]
        assert snmp and snmp[0].agent == "ce-router" and snmp[0].interfaces == [name]


def test_default_intervals(lingshui_config):
    cfg = lingshui_config
    intervals = {(a.name, c.check_name): cfg.check_interval(a, c) for a, c in cfg.iter_checks()}
    assert intervals[("mstp-voice", "icmp")] == 1.0
    assert intervals[("voice-gw", "icmp")] == 1.0
    assert intervals[("ce-router", "snmp")] == 10.0
    assert intervals[("voice-gw", "sip")] == 5.0
    assert intervals[("phone-07", "sip")] == 30.0


def test_services_name_existing_assets(lingshui_config):
    names = {a.name for a in lingshui_config.assets}
    services = {s.name: s for s in lingshui_config.services}
    assert set(services) == {"voice-intake", "ticket-exchange", "internet-channels", "staff-phones"}
    for service in services.values():
        assert service.asset_names() <= names
