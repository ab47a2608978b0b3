"""How to talk to an agent (credentials) and what one poll asks (params), checked on load.

Also what the params imply for the scheduler: ``deadline(params)``. The protocol names map to
pysnmp's constants here, so the poller and the trap receiver agree on them; so do the
spellings accepted for them (net-snmp's ``SHA-256``/``AES`` as well as ``sha256``/``aes128``,
any case), for the config and the CLI alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator

from noc.core.units import Duration
from noc.core.validation import NumberAsText

AuthProtocolName = Literal["sha", "sha224", "sha256", "sha384", "sha512"]
# aes192/aes256: draft-blumenthal key extension = net-snmp "AES-192"/"AES-256".
# aes192c/aes256c: Reeder ("Cisco") key extension = net-snmp "AES-192-C"/"AES-256-C".
PrivProtocolName = Literal["aes128", "aes192", "aes256", "aes192c", "aes256c"]

# names of the pysnmp.hlapi protocol constants
AUTH_PROTOCOLS = {
    "sha": "USM_AUTH_HMAC96_SHA",
    "sha224": "USM_AUTH_HMAC128_SHA224",
    "sha256": "USM_AUTH_HMAC192_SHA256",
    "sha384": "USM_AUTH_HMAC256_SHA384",
    "sha512": "USM_AUTH_HMAC384_SHA512",
}
PRIV_PROTOCOLS = {
    "aes128": "USM_PRIV_CFB128_AES",
    "aes192": "USM_PRIV_CFB192_AES_BLUMENTHAL",  # net-snmp AES-192
    "aes256": "USM_PRIV_CFB256_AES_BLUMENTHAL",  # net-snmp AES-256 (tested against snmpd 5.9)
    "aes192c": "USM_PRIV_CFB192_AES",  # Reeder key extension, net-snmp AES-192-C
    "aes256c": "USM_PRIV_CFB256_AES",  # Reeder key extension, net-snmp AES-256-C (tested)
}

# net-snmp's own names (snmpcmd -a/-x, createUser in snmpd.conf), for each canonical name
NETSNMP_AUTH: dict[str, str] = {
    "sha": "SHA",
    "sha224": "SHA-224",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
}
NETSNMP_PRIV: dict[str, str] = {
    "aes128": "AES",
    "aes192": "AES-192",
    "aes256": "AES-256",
    "aes192c": "AES-192-C",
    "aes256c": "AES-256-C",
}

# Every accepted spelling, lower case → the canonical name. An engineer types net-snmp's
# names from habit (``SHA``, ``AES``, ``AES-256-C``), also its aliases (``SHA1``, ``AES128``);
# ours are the dashless lower-case forms. Case never matters.
AUTH_SPELLINGS: dict[str, str] = {
    **{name: name for name in AUTH_PROTOCOLS},
    **{netsnmp.lower(): name for name, netsnmp in NETSNMP_AUTH.items()},
    "sha1": "sha",
    "sha-1": "sha",
}
PRIV_SPELLINGS: dict[str, str] = {
    **{name: name for name in PRIV_PROTOCOLS},
    **{netsnmp.lower(): name for name, netsnmp in NETSNMP_PRIV.items()},
    "aes-128": "aes128",
}
# protocols net-snmp knows that the probe does not speak, with the reason
REFUSED_AUTH = {
    "md5": "MD5 is not supported (broken hash; only the SHA family is): "
    "configure the device user with SHA-256",
}
REFUSED_PRIV = {
    "des": "DES is not supported (56-bit key; only AES is): configure the device user with AES",
}


def _canonical(
    what: str,
    value: str,
    spellings: Mapping[str, str],
    refused: Mapping[str, str],
    netsnmp: Mapping[str, str],
) -> str:
    key = value.strip().lower()
    if key in refused:
        raise ValueError(refused[key])
    try:
        return spellings[key]
    except KeyError:
        raise ValueError(
            f"unknown {what} protocol {value!r}: one of {', '.join(netsnmp.values())} "
            f"or {', '.join(netsnmp)} (any case)"
        ) from None


def auth_protocol(value: str) -> str:
    """The canonical auth protocol (``sha256``) for any accepted spelling (``SHA-256``);
    a ValueError that says why for MD5 or an unknown name."""
    return _canonical("auth", value, AUTH_SPELLINGS, REFUSED_AUTH, NETSNMP_AUTH)


def priv_protocol(value: str) -> str:
    """The canonical privacy protocol (``aes128``) for any accepted spelling (``AES``,
    ``AES-128``); a ValueError that says why for DES or an unknown name."""
    return _canonical("priv", value, PRIV_SPELLINGS, REFUSED_PRIV, NETSNMP_PRIV)


def _text_only(convert):  # noqa: ANN001, ANN202 - a pydantic before-validator
    """Apply ``convert`` to strings; anything else goes on to the Literal, which refuses it."""
    return BeforeValidator(lambda v: convert(v) if isinstance(v, str) else v)


# the field types: any spelling in, the canonical name stored (and shown) as before
AuthProtocol = Annotated[AuthProtocolName, _text_only(auth_protocol)]
PrivProtocol = Annotated[PrivProtocolName, _text_only(priv_protocol)]


class SnmpCredentials(BaseModel):
    """How to talk to one agent: v2c community, or a v3 USM user at authPriv."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[Literal["2c", "3"], NumberAsText] = "2c"  # YAML `version: 3` too
    community: SecretStr | None = None
    user: str | None = None
    auth_protocol: AuthProtocol = "sha256"
    auth_key: SecretStr | None = None
    priv_protocol: PrivProtocol = "aes128"
    priv_key: SecretStr | None = None
    port: int = Field(default=161, ge=1, le=65535)

    @model_validator(mode="after")
    def _check_version_fields(self) -> SnmpCredentials:
        if self.version == "2c":
            if not self.community or not self.community.get_secret_value():
                raise ValueError("SNMP v2c needs a community")
        else:
            if not self.user:
                raise ValueError("SNMP v3 needs a user")
            for name in ("auth_key", "priv_key"):
                key = getattr(self, name)
                if key is None or len(key.get_secret_value()) < 8:
                    raise ValueError(f"SNMP v3 {name} must be at least 8 characters (RFC 3414)")
        return self


class SnmpParams(BaseModel):
    """Per-check knobs of the SNMP probe."""

    model_config = ConfigDict(extra="forbid")

    timeout: Duration = 2.0
    retries: int = Field(default=1, ge=0, le=5)
    # ifName or ifDescr (a switch may name its ports 1, 2 …); empty = all
    interfaces: list[Annotated[str, NumberAsText]] = Field(default_factory=list)
    max_repetitions: int = Field(default=25, ge=1, le=200)


def as_params(params: SnmpParams | Mapping[str, Any] | None) -> SnmpParams:
    """``params`` as SnmpParams: the defaults for None, validated from a mapping."""
    if params is None:
        return SnmpParams()
    if isinstance(params, SnmpParams):
        return params
    return SnmpParams.model_validate(dict(params))


def credentials_of(extra: Mapping[str, Any]) -> SnmpCredentials:
    """The credentials a target carries in ``extra["credentials"]`` (the model or its fields)."""
    raw = extra.get("credentials")
    if isinstance(raw, SnmpCredentials):
        return raw
    if isinstance(raw, Mapping):
        return SnmpCredentials.model_validate(dict(raw))
    raise ValueError("target.extra['credentials'] must hold SnmpCredentials")


def contracted_bandwidth(raw: Any) -> dict[str, int]:
    """``extra["bandwidth_bps"]`` as {interface name: bit/s}; what is not a number is skipped."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, int] = {}
    for name, bps in raw.items():
        try:
            out[str(name)] = int(bps)
        except (TypeError, ValueError):
            continue
    return out


def deadline(params: SnmpParams) -> float:
    """A walk is a few GETBULK requests, each with its retries; then a second's margin."""
    return params.timeout * (params.retries + 1) * 4 + 1.0
