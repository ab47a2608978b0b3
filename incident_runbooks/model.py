"""The shape of a fault runbook (故障运维方案): typed, strict, Chinese first with English.

A runbook answers, for one family of fault types: how fast must the NOC acknowledge and
recover at each severity level (I–IV), what the staff do, in order and by whom, which of
those steps the service runs itself (``automated``), which steps change the network
(``intervention``: a recovery after one is *manual*), when the service runs them (``when``:
as the incident opens, or once it has recovered), and whom to call when it drags on.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from noc.core.units import Duration
from noc.core.validation import LocalizedText, Name, StrictModel
from noc.core.vocabulary import LEVEL_NAMES, LEVELS, Level, normalize_level

ROLES: dict[str, tuple[str, str]] = {
    "operator": ("值班员", "NOC operator"),
    "noc_lead": ("值班长", "NOC shift lead"),
    "network_engineer": ("网络工程师", "network engineer"),
    "voice_engineer": ("语音平台工程师", "voice platform engineer"),
    "carrier": ("运营商", "carrier"),
    "vendor": ("厂商", "vendor"),
    "purchaser": ("采购人联系人", "purchaser contact"),
}
"""Who does a step; the keys are what a runbook writes, the labels what the timeline shows."""

Role = Literal[
    "operator", "noc_lead", "network_engineer", "voice_engineer", "carrier", "vendor", "purchaser"
]

AUTOMATED_ACTIONS = ("reprobe", "snmp_interfaces", "traceroute", "sip_options", "arp_scan")

When = Literal["on_open", "on_recovery"]
"""When the service runs an automated step: diagnostics as the incident opens, a verification
once the service has seen it recover (a verify step run at opening would only confirm the fault)."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


NonBlank = Annotated[str, AfterValidator(_not_blank)]


class Text(LocalizedText):
    """Chinese (shown first) and English; both required, because the NOC staff read Chinese
    and the vendors' and auditors' copies are in English."""

    zh: NonBlank
    en: NonBlank

    def both(self) -> str:
        return f"{self.zh} / {self.en}"


class Contact(StrictModel):
    """Whom to call; ``phone`` is usually ``${ENV_VAR:-label}`` so the number lives in the site's environment."""

    name: Text
    phone: NonBlank


class Deadline(StrictModel):
    acknowledge: Annotated[Duration, Field(gt=0)]
    recover: Annotated[Duration, Field(gt=0)]


class Deadlines(StrictModel):
    """One deadline pair per severity level; ``P1``…``P4`` are accepted as keys for I…IV."""

    I: Deadline | None = None  # noqa: E741 - the level's name
    II: Deadline | None = None
    III: Deadline | None = None
    IV: Deadline | None = None

    @model_validator(mode="before")
    @classmethod
    def _level_aliases(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        out: dict[object, object] = {}
        for key, value in data.items():
            level = normalize_level(key) if isinstance(key, str) else key
            if level in out:
                raise ValueError(f"level {level} is given twice (as {key!r} too)")
            out[level] = value
        return out


# --- automated steps --------------------------------------------------------------------


class _Action(StrictModel):
    timeout: Annotated[Duration, Field(gt=0, le=300)] = 20.0


class Reprobe(_Action):
    """Run the configured checks of the incident's assets once more (all, or the named ones)."""

    action: Literal["reprobe"]
    checks: list[NonBlank] = Field(default_factory=list)
    members: bool = True  # also the member assets (grouped phones, symptoms)


class SnmpInterfaces(_Action):
    """Dump the interface table of the root asset's SNMP agent (a circuit's CE router)."""

    action: Literal["snmp_interfaces"]
    rate_interval: Annotated[Duration, Field(ge=0, le=30)] = (
        2.0  # second poll for rates/errors; 0 = one poll
    )


class Traceroute(_Action):
    """ICMP traceroute to the root asset's address (or a named check's target, e.g. the SIP
    trunk peer): where does the path break?"""

    action: Literal["traceroute"]
    check: NonBlank | None = None
    max_hops: int = Field(15, ge=1, le=30)
    probe_timeout: Annotated[Duration, Field(gt=0, le=10)] = 2.0


class SipOptions(_Action):
    """SIP OPTIONS to the asset's SIP checks with the full answer (status, server, RTT)."""

    action: Literal["sip_options"]
    check: NonBlank | None = None  # a named sip check (e.g. "trunk"); default: every sip check
    members: bool = True


def _check_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise ValueError("must be an IPv4 network such as 198.18.10.0/24") from None
    if network.prefixlen < 22:
        raise ValueError(
            "must be /22 or smaller (an ARP scan of more than 1024 addresses floods the segment)"
        )
    return value


class ArpScan(_Action):
    """Which hosts answer ARP on a segment (finds phones that ignore ping)."""

    action: Literal["arp_scan"]
    cidr: Annotated[str, AfterValidator(_check_cidr)]
    iface: NonBlank | None = None
    probe_timeout: Annotated[Duration, Field(gt=0, le=10)] = 2.0


AutomatedAction = Annotated[
    Reprobe | SnmpInterfaces | Traceroute | SipOptions | ArpScan, Field(discriminator="action")
]


# --- steps, escalation, runbook ---------------------------------------------------------


class Step(StrictModel):
    id: Name
    title: Text
    role: Role
    action: Text
    contact: Contact | None = None
    intervention: bool
    automated: AutomatedAction | None = None  # read-only: the loader rejects it on an intervention
    when: When = "on_open"  # only written with ``automated`` (the loader checks)

    @property
    def runs_on(self) -> When | None:
        """When the service runs this step by itself; None for a step people do."""
        return self.when if self.automated is not None else None

    @property
    def role_label(self) -> str:
        zh, en = ROLES[self.role]
        return f"{zh} / {en}"


class EscalationTier(StrictModel):
    """Notify ``notify`` (a receiver of the alerting layer) when the incident is still not
    recovered ``after`` its opening; only for the listed levels (default: all)."""

    after: Annotated[Duration, Field(gt=0)]
    notify: Name
    title: Text
    levels: list[Level] = Field(default_factory=lambda: list(LEVELS))


class Runbook(StrictModel):
    id: Name
    title: Text
    description: Text | None = None
    applies_to: list[NonBlank] = Field(min_length=1)
    deadlines: Deadlines
    steps: list[Step] = Field(min_length=1)
    escalation: list[EscalationTier] = Field(min_length=1)

    def deadline(self, level: str) -> Deadline:
        """The acknowledge/recover deadline at ``level`` (I…IV, or P1…P4)."""
        key = str(normalize_level(level))
        if key not in LEVELS:
            raise KeyError(f"unknown severity level {level!r}; use I, II, III, IV (or P1…P4)")
        found = getattr(self.deadlines, key)
        if found is None:  # the loader rejects this; only a hand-built model gets here
            raise KeyError(f"runbook {self.id!r} has no deadline for level {key}")
        return found

    def first_steps(self, n: int = 3) -> list[Step]:
        return list(self.steps[:n])

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"runbook {self.id!r} has no step {step_id!r}")

    def automated_steps(self, when: When | None = None) -> list[Step]:
        """The steps the service runs itself; with ``when``, only those run at that moment."""
        return [s for s in self.steps if s.automated is not None and when in (None, s.runs_on)]

    def escalation_for(self, level: str) -> list[EscalationTier]:
        """The tiers that apply at ``level``, in order."""
        key = str(normalize_level(level))
        return [t for t in self.escalation if key in t.levels]

    def due_escalations(self, level: str, elapsed: float) -> list[EscalationTier]:
        """Tiers whose time has come ``elapsed`` seconds after the incident opened."""
        return [t for t in self.escalation_for(level) if elapsed >= t.after]


def level_label(level: str) -> str:
    zh, en = LEVEL_NAMES[level]
    return f"{level}级 {zh} / level {level} {en}"
