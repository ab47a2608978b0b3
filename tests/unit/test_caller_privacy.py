"""Caller numbers: normalised, masked, hashed with a key, encrypted only when asked."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from noc.config.models import PrivacySettings
from noc.core.errors import UnavailableError
from noc.ingest.fields import Invalid
from noc.ingest.privacy import CallerProtector, mask, normalize

KEY = "unit-test-hash-key-0123456789"


@pytest.mark.parametrize(
    ("raw", "number", "masked"),
    [
        ("13800138000", "13800138000", "138****8000"),
        ("+86 138 0013 8000", "13800138000", "138****8000"),
        ("0086-13800138000", "13800138000", "138****8000"),
        ("8613800138000", "13800138000", "138****8000"),
        (13800138000.0, "13800138000", "138****8000"),  # Excel keeps numbers as numbers
        ("0898-8330 1234", "089883301234", "0898-****1234"),
        ("+86 898 83301234", "089883301234", "0898-****1234"),
        ("(010) 6512-3456", "01065123456", "010-****3456"),
        ("83301234", "83301234", "****1234"),
        ("12345", "12345", "1***5"),
        ("110", "110", "1*0"),
        ("+44 20 7946 01234", "+4420794601234", "+44****1234"),
    ],
)
def test_normalise_and_mask(raw, number, masked):
    assert normalize(raw) == number
    assert mask(number) == masked


@pytest.mark.parametrize("raw", [None, "", "  ", "anonymous", "Unknown", "匿名"])
def test_no_number(raw):
    assert normalize(raw) is None
    assert CallerProtector(KEY).protect(raw) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("138-abc", "'138-abc' is not a phone number"),
        ("12", "'12' must have 3 to 20 digits"),
        ("1" * 21, f"'{'1' * 21}' must have 3 to 20 digits"),
    ],
)
def test_not_a_number(raw, reason):
    with pytest.raises(Invalid, match="^" + reason.replace("+", r"\+") + "$"):
        normalize(raw)


def test_the_hash_is_keyed_and_ignores_formatting():
    protector = CallerProtector(KEY)
    a = protector.protect("+86 138 0013 8000")
    b = protector.protect("13800138000")
    assert a == b and a.encrypted is None
    assert a.hash == hmac.new(KEY.encode(), b"13800138000", hashlib.sha256).hexdigest()
    assert a.hash != hashlib.sha256(b"13800138000").hexdigest()
    assert CallerProtector("another-key-0123456789").protect("13800138000").hash != a.hash


def test_encrypted_only_when_configured_and_reversible_with_the_key():
    fernet_key = Fernet.generate_key().decode()
    protector = CallerProtector(KEY, fernet_key)
    caller = protector.protect("13800138000")
    assert caller.encrypted and "13800138000" not in caller.encrypted
    assert protector.reveal(caller.encrypted) == "13800138000"
    with pytest.raises(ValueError, match="another key"):
        CallerProtector(KEY, Fernet.generate_key().decode()).reveal(caller.encrypted)


def test_without_a_hash_key_a_number_is_refused_not_stored():
    with pytest.raises(UnavailableError, match="NOC_CALLER_HASH_KEY"):
        CallerProtector(None).protect("13800138000")
    assert CallerProtector(None).protect("") is None


def test_privacy_settings(monkeypatch):
    monkeypatch.delenv("NOC_CALLER_HASH_KEY", raising=False)
    monkeypatch.delenv("NOC_CALLER_KEY", raising=False)
    settings = PrivacySettings()
    assert settings.store_caller == "hash_only" and settings.hash_key is None
    monkeypatch.setenv("NOC_CALLER_HASH_KEY", KEY)
    monkeypatch.setenv("NOC_CALLER_KEY", Fernet.generate_key().decode())
    hash_only = PrivacySettings()
    assert hash_only.protector().protect("13800138000").encrypted is None  # key there, not used
    encrypted = PrivacySettings(store_caller="encrypted")
    assert encrypted.protector().protect("13800138000").encrypted
    with pytest.raises(ValueError, match="at least 16 characters"):
        PrivacySettings(hash_key=SecretStr("short"))
    with pytest.raises(ValueError, match="not a Fernet key"):
        PrivacySettings(store_caller="encrypted", encryption_key=SecretStr("not-a-key"))
    monkeypatch.delenv("NOC_CALLER_KEY")
    with pytest.raises(ValueError, match="needs encryption_key"):
        PrivacySettings(store_caller="encrypted")


def test_a_config_file_names_the_line_of_a_bad_privacy_section():
    from noc.config import ConfigError, parse_config

    text = (
        "site: {name: lingshui, title: {zh: 陵水}}\n"
        "assets:\n"
        "  - {name: ce-router, kind: router, address: 198.18.10.9}\n"
        "privacy:\n"
        "  store_caller: plain\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert [str(i) for i in info.value.issues] == [
        "<config>:5 privacy.store_caller: must be hash_only or encrypted"
    ]
