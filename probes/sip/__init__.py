"""SIP OPTIONS probe: the voice gateway and the office phones answer, and how fast."""

from probes.sip.client import (
    DEFAULT_PORT,
    SipClient,
    SipParams,
    close_default_client,
    default_client,
    probe_sip,
    result_for_response,
)

__all__ = [
    "DEFAULT_PORT",
    "SipClient",
    "SipParams",
    "close_default_client",
    "default_client",
    "probe_sip",
    "result_for_response",
]
