"""SIP OPTIONS probe: the voice gateway and the office phones answer, and how fast."""

from probes.kind import ProbeKind
from probes.sip import params, render
from probes.sip.client import SipClient, result_for_response
from probes.sip.params import DEFAULT_PORT, SipParams

KIND = ProbeKind(
    "sip",
    client=SipClient,
    deadline=params.deadline,
    render=render.render,
    brief=render.brief,
    gauges=render.gauges,
)

__all__ = ["DEFAULT_PORT", "KIND", "SipClient", "SipParams", "result_for_response"]
