"""The site inventory: typed models (``models``) and the two-pass loader (``loader``)."""

from noc.config.loader import load_config, parse_config
from noc.config.models import (
    _SIP_URI_RE,
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
from noc.core.vocabulary import ASSET_KINDS

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
