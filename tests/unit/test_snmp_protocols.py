"""SNMPv3 protocol names: net-snmp's spellings (``SHA-256``, ``AES``, ``AES-256-C``) and ours
(``sha256``, ``aes128``), any case, map to the same canonical names; MD5 and DES are refused
with the reason. The table is written out here by hand, not derived from the code's."""

from __future__ import annotations

import pytest

from probes.snmp import SnmpCredentials
from probes.snmp.params import (
    AUTH_PROTOCOLS,
    NETSNMP_AUTH,
    NETSNMP_PRIV,
    PRIV_PROTOCOLS,
    auth_protocol,
    priv_protocol,
)
from probes.snmp.traps import TrapUser

AUTH = {
    "SHA": "sha",
    "SHA1": "sha",
    "SHA-1": "sha",
    "sha": "sha",
    "Sha": "sha",
    "SHA-224": "sha224",
    "SHA224": "sha224",
    "sha224": "sha224",
    "SHA-256": "sha256",
    "sha-256": "sha256",
    "SHA256": "sha256",
    "sha256": "sha256",
    "SHA-384": "sha384",
    "sha384": "sha384",
    "SHA-512": "sha512",
    "Sha-512": "sha512",
    "sha512": "sha512",
}
PRIV = {
    "AES": "aes128",
    "aes": "aes128",
    "AES-128": "aes128",
    "AES128": "aes128",
    "aes128": "aes128",
    "AES-192": "aes192",
    "AES192": "aes192",
    "aes192": "aes192",
    "AES-256": "aes256",
    "aes-256": "aes256",
    "AES256": "aes256",
    "aes256": "aes256",
    "AES-192-C": "aes192c",
    "AES192C": "aes192c",
    "aes192c": "aes192c",
    "AES-256-C": "aes256c",
    "aes-256-c": "aes256c",
    "AES256C": "aes256c",
    "aes256c": "aes256c",
}


@pytest.mark.parametrize(("spelling", "canonical"), AUTH.items())
def test_auth_spelling(spelling, canonical):
    assert auth_protocol(spelling) == canonical


@pytest.mark.parametrize(("spelling", "canonical"), PRIV.items())
def test_priv_spelling(spelling, canonical):
    assert priv_protocol(spelling) == canonical


def test_every_protocol_has_its_net_snmp_name_and_back():
    assert set(AUTH.values()) == set(AUTH_PROTOCOLS) == set(NETSNMP_AUTH)
    assert set(PRIV.values()) == set(PRIV_PROTOCOLS) == set(NETSNMP_PRIV)
    for ours, theirs in NETSNMP_AUTH.items():
        assert auth_protocol(theirs) == ours
    for ours, theirs in NETSNMP_PRIV.items():
        assert priv_protocol(theirs) == ours


@pytest.mark.parametrize(
    ("convert", "name", "reason"),
    [
        (auth_protocol, "MD5", "MD5 is not supported"),
        (auth_protocol, "md5", "MD5 is not supported"),
        (priv_protocol, "DES", "DES is not supported"),
        (priv_protocol, "des", "DES is not supported"),
        (auth_protocol, "SHA-3", "unknown auth protocol 'SHA-3': one of SHA, SHA-224"),
        (priv_protocol, "AES-512", "unknown priv protocol 'AES-512': one of AES, AES-192"),
        (priv_protocol, "AES-256C", "or aes128, aes192, aes256, aes192c, aes256c (any case)"),
    ],
)
def test_refused_names_say_why(convert, name, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        convert(name)


def test_credentials_and_trap_users_store_the_canonical_name():
    creds = SnmpCredentials(
        version="3",
        user="noc",
        auth_protocol="SHA-512",
        auth_key="12345678",
        priv_protocol="AES-256-C",
        priv_key="abcdefgh",
    )
    assert (creds.auth_protocol, creds.priv_protocol) == ("sha512", "aes256c")
    assert creds.model_dump()["auth_protocol"] == "sha512"
    user = TrapUser(
        user="trap",
        engine_id="0x8000000001020304",
        auth_protocol="sha",
        auth_key="12345678",
        priv_protocol="AES",
        priv_key="abcdefgh",
    )
    assert (user.auth_protocol, user.priv_protocol) == ("sha", "aes128")
    with pytest.raises(ValueError, match="MD5 is not supported"):
        TrapUser(
            user="trap",
            engine_id="0x8000000001020304",
            auth_protocol="MD5",
            auth_key="12345678",
            priv_key="abcdefgh",
        )
    with pytest.raises(ValueError):  # not a name at all
        SnmpCredentials(
            version="3", user="u", auth_key="12345678", priv_key="12345678", auth_protocol=256
        )
