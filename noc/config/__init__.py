"""The site inventory: typed models (``models``) and the two-pass loader (``loader``)."""

from noc.config.loader import load_config, parse_config
from noc.config.models import (
    _SIP_URI_RE,
    ASSET_KINDS,
    DEFAULT_CONFIG,
    AnyOf,
    Asset,
    ConfigError,
    IcmpCheck,
    NocConfig,
    SipCheck,
    SnmpCheck,
    TrapSettings,
)

__all__ = [
    "ASSET_KINDS",
    "DEFAULT_CONFIG",
    "AnyOf",
    "Asset",
    "ConfigError",
    "IcmpCheck",
    "NocConfig",
    "SipCheck",
    "SnmpCheck",
    "TrapSettings",
    "_SIP_URI_RE",
    "load_config",
    "parse_config",
]
