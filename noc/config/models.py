"""The site inventory: one strict YAML file, validated in two passes.

Pass 1 (pydantic) checks shapes, types and ranges; unknown keys are errors. Pass 2 checks
that every name used exists (dependencies, SNMP agents, service needs), that names are
unique and that dependencies have no cycle. Both passes report ``file:line key.path: message``
through :class:`ConfigError`, all problems at once, so an operator fixes a file in one go.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)

from alerting.config import AlertingConfig
from noc.config.grafana import GrafanaSettings
from noc.config.kpi import KpiSettings
from noc.config.security import SecuritySettings
from noc.core.units import Bandwidth, Duration
from noc.core.validation import LocalizedText, Name, NumberAsText, StrictModel
from noc.core.vocabulary import CIRCUIT_KINDS, AssetKind, Impact
from noc.core.yamlsource import SourceError
from noc.engine.health import HealthPolicy
from noc.engine.severity import PartialImpact, SeverityMatrix
from probes.icmp import IcmpParams
from probes.sip import SipParams
from probes.snmp import SnmpCredentials, SnmpParams
from probes.snmp.traps import TrapUser

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "defaults" / "lingshui.yaml"


class ConfigError(SourceError):
    """The config file is wrong; ``issues`` lists every problem with file, line and key path."""

    label = "配置有误 / config invalid"


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class Site(StrictModel):
    name: Name
    title: LocalizedText
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "Asia/Shanghai"
    locale: Literal["zh-CN", "en"] = "zh-CN"


def _check_listen(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8080")
    return value


class TlsSettings(StrictModel):
    """PEM files of the HTTPS certificate (chain) and its private key."""

    cert: Annotated[str, Field(min_length=1)]
    key: Annotated[str, Field(min_length=1)]


class ServerSettings(StrictModel):
    """Where the service listens and keeps its event store; HTTPS and who may scrape /metrics."""

    listen: Annotated[str, AfterValidator(_check_listen)] = "127.0.0.1:8080"
    db: str | None = None
    public_url: str | None = None
    tls: TlsSettings | None = None
    # open: as Prometheus expects; bearer: a scrape needs an API token that may read
    metrics_auth: Literal["open", "bearer"] = "open"


CheckType = Literal["icmp", "snmp", "sip"]
CHECK_TYPES: tuple[str, ...] = CheckType.__args__  # type: ignore[attr-defined]


class IntervalDefaults(StrictModel):
    """Probe interval per check type, with per-asset-kind overrides (phones are polled slower)."""

    default: Duration
    by_kind: dict[AssetKind, Duration] = Field(default_factory=dict)

    def for_kind(self, kind: str) -> float:
        return self.by_kind.get(kind, self.default)  # type: ignore[call-overload]


class Defaults(StrictModel):
    icmp: IntervalDefaults = IntervalDefaults(default=1.0, by_kind={"phone": 30.0})
    snmp: IntervalDefaults = IntervalDefaults(default=10.0)
    sip: IntervalDefaults = IntervalDefaults(default=5.0, by_kind={"phone": 30.0})

    def interval(self, check_type: str, kind: str) -> float:
        return getattr(self, check_type).for_kind(kind)


class CheckCommon(StrictModel):
    name: Name | None = None
    interval: Annotated[Duration, Field(gt=0)] | None = None
    enabled: bool = True
    depends_on: list[Name] = Field(default_factory=list)

    @property
    def check_name(self) -> str:
        return self.name or self.type  # type: ignore[attr-defined]


class IcmpCheck(CheckCommon):
    """Ping the asset (or ``address``): RTT, loss, jitter."""

    type: Literal["icmp"]
    address: str | None = None
    params: IcmpParams = Field(default_factory=IcmpParams)


class SnmpCheck(CheckCommon):
    """Poll interfaces of an SNMP agent: the asset itself, or ``agent`` (a circuit's CE router)."""

    type: Literal["snmp"]
    agent: Name | None = None
    interfaces: list[Annotated[str, NumberAsText]] = Field(default_factory=list)
    params: SnmpParams = Field(default_factory=SnmpParams)

    @model_validator(mode="after")
    def _interfaces_once(self) -> SnmpCheck:
        if self.params.interfaces:
            raise ValueError("list interfaces on the check (interfaces: [...]), not under params")
        return self

    def probe_params(self) -> SnmpParams:
        return self.params.model_copy(update={"interfaces": list(self.interfaces)})


class SipCheck(CheckCommon):
    """SIP OPTIONS to the asset's URI (or ``uri``, e.g. the provincial trunk peer)."""

    type: Literal["sip"]
    uri: str | None = None
    params: SipParams = Field(default_factory=SipParams)


Check = Annotated[IcmpCheck | SnmpCheck | SipCheck, Field(discriminator="type")]


_SIP_URI_RE = re.compile(
    r"^sips?:(?:[^@\s]+@)?(?P<host>\[[0-9a-fA-F:]+\]|[^:;\s@]+)(?::(?P<port>\d+))?(?:;.*)?$"
)


def _check_sip_uri(value: str) -> str:
    if not _SIP_URI_RE.match(value):
        raise ValueError("must be a SIP URI such as sip:1001@198.18.10.101:5060")
    return value


SipUri = Annotated[str, AfterValidator(_check_sip_uri)]


class SipEndpoint(StrictModel):
    uri: SipUri
    transport: Literal["udp", "tcp"] = "udp"


def _check_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if re.fullmatch(r"(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+", value):
        return value
    raise ValueError("must be an IP address or host name")


Address = Annotated[str, AfterValidator(_check_address)]


class Asset(StrictModel):
    """One thing on the network the NOC answers for."""

    name: Name
    kind: AssetKind
    title: LocalizedText | None = None
    address: Address | None = None
    bandwidth: Bandwidth | None = None
    interface: Annotated[str, NumberAsText] | None = None
    snmp: SnmpCredentials | None = None
    sip: SipEndpoint | None = None
    depends_on: list[Name] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    labels: dict[str, Annotated[str, NumberAsText]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _circuits_have_bandwidth(self) -> Asset:
        if self.kind in CIRCUIT_KINDS and self.bandwidth is None:
            raise ValueError(f"a {self.kind} needs its contracted bandwidth (e.g. bandwidth: 10M)")
        return self

    def display_name(self, locale: str = "zh-CN") -> str:
        return self.title.get(locale) if self.title else self.name


class AnyOf(StrictModel):
    """Redundant assets: the need is met while at least one of them is up."""

    any_of: list[Name] = Field(min_length=2)


class PlatformService(StrictModel):
    """Something the platform offers citizens or staff, the assets it needs, and how much the
    platform suffers when it is down (the impact column of the severity matrix)."""

    name: Name
    title: LocalizedText
    needs: list[Name | AnyOf] = Field(min_length=1)
    impact: Impact = "moderate"
    partial: list[PartialImpact] = Field(default_factory=list)

    def asset_names(self) -> set[str]:
        names: set[str] = set()
        for need in self.needs:
            names.update(need.any_of if isinstance(need, AnyOf) else [need])
        return names


class TrapSettings(StrictModel):
    """Where the service listens for SNMP traps (linkDown/linkUp/coldStart), v2c and v3."""

    listen: Annotated[str, AfterValidator(_check_listen)]
    communities: list[SecretStr] = Field(default_factory=list)
    users: list[TrapUser] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_credentials(self) -> TrapSettings:
        if not self.communities and not self.users:
            raise ValueError("traps need at least one community (v2c) or user (v3)")
        return self


class MttrTargets(StrictModel):
    """Longest acceptable repair time per recovery kind (contract: automatic 15 min, manual 24 h)."""

    automatic: Annotated[Duration, Field(gt=0)] = 900.0
    manual: Annotated[Duration, Field(gt=0)] = 86400.0


class CoverageSettings(StrictModel):
    """Monitoring coverage (docs/sla.md): how the service records when it watched, and how much
    of a period it must have watched before its figures are sufficient."""

    threshold: Annotated[float, Field(gt=0, le=1)] = 0.99  # under it: "insufficient coverage"
    heartbeat: Annotated[Duration, Field(gt=0)] = 30.0  # a crash loses at most this much
    stale_after: Annotated[float, Field(ge=1)] = 3.0  # × the check's interval without a result


class SlaSettings(StrictModel):
    """The SLA targets (docs/sla.md). The tender states MTBF and MTTR; it gives no availability
    figure, so the objective (and with it the error budget) is ours to set: 99.9 % by default."""

    availability_objective: Annotated[float, Field(gt=0, lt=1)] = 0.999
    mtbf_target: Annotated[Duration, Field(gt=0)] = 600 * 3600.0
    mttr_targets: MttrTargets = MttrTargets()
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "Asia/Shanghai"
    coverage: CoverageSettings = CoverageSettings()

    def targets(self):  # -> sla.gauges.SlaTargets (imported late: sla depends on nothing of noc)
        from sla.gauges import SlaTargets

        return SlaTargets(
            availability_objective_ratio=self.availability_objective,
            mtbf_seconds=self.mtbf_target,
            mttr_seconds={
                "automatic": self.mttr_targets.automatic,
                "manual": self.mttr_targets.manual,
            },
            coverage_threshold_ratio=self.coverage.threshold,
        )


def _env_secret(name: str) -> SecretStr | None:
    value = os.environ.get(name)
    return SecretStr(value) if value else None


class PrivacySettings(StrictModel):
    """Caller numbers (docs/calls-tickets.md): never stored in clear. The store keeps a keyed
    hash (repeat callers) and a masked form; ``store_caller: encrypted`` also keeps the number,
    encrypted. Keys come from the environment unless written here (as ``${VAR}``)."""

    store_caller: Literal["hash_only", "encrypted"] = "hash_only"
    hash_key: SecretStr | None = Field(default_factory=lambda: _env_secret("NOC_CALLER_HASH_KEY"))
    encryption_key: SecretStr | None = Field(default_factory=lambda: _env_secret("NOC_CALLER_KEY"))

    @model_validator(mode="after")
    def _keys(self) -> PrivacySettings:
        if self.hash_key is not None and len(self.hash_key.get_secret_value()) < 16:
            raise ValueError("hash_key must be at least 16 characters (a long random string)")
        if self.store_caller == "encrypted":
            if self.encryption_key is None:
                raise ValueError(
                    "store_caller: encrypted needs encryption_key (or $NOC_CALLER_KEY): "
                    "a Fernet key, e.g. from `python -c 'from cryptography.fernet import "
                    "Fernet; print(Fernet.generate_key().decode())'`"
                )
            from cryptography.fernet import Fernet

            try:
                Fernet(self.encryption_key.get_secret_value().encode())
            except (ValueError, TypeError):
                raise ValueError(
                    "encryption_key is not a Fernet key (32 url-safe base64-encoded bytes)"
                ) from None
        return self

    def protector(self):  # -> noc.ingest.privacy.CallerProtector
        from noc.ingest.privacy import CallerProtector

        return CallerProtector(
            self.hash_key.get_secret_value() if self.hash_key else None,
            self.encryption_key.get_secret_value()
            if self.store_caller == "encrypted" and self.encryption_key
            else None,
        )


class NocConfig(StrictModel):
    """The whole site inventory."""

    version: Literal[1] = 1
    site: Site
    server: ServerSettings = ServerSettings()
    defaults: Defaults = Defaults()
    assets: list[Asset] = Field(min_length=1)
    services: list[PlatformService] = Field(default_factory=list)
    severity: SeverityMatrix = SeverityMatrix()
    health: dict[CheckType, HealthPolicy] = Field(default_factory=dict)
    traps: TrapSettings | None = None
    alerting: AlertingConfig = Field(
        default_factory=AlertingConfig
    )  # a factory: reads $NOC_ALERT_URL at load
    sla: SlaSettings = SlaSettings()
    security: SecuritySettings = SecuritySettings()
    grafana: GrafanaSettings | None = None  # links to the dashboards' panels on asset pages
    kpi: KpiSettings = KpiSettings()
    privacy: PrivacySettings = Field(
        default_factory=PrivacySettings
    )  # a factory: reads $NOC_CALLER_HASH_KEY and $NOC_CALLER_KEY at load

    model_config = ConfigDict(ignored_types=(cached_property,))

    @model_validator(mode="after")
    def _fill_intervals(self) -> NocConfig:
        """Make the effective config explicit: every check gets its interval from the defaults."""
        for asset in self.assets:
            for check in asset.checks:
                if check.interval is None:
                    object.__setattr__(
                        check, "interval", self.defaults.interval(check.type, asset.kind)
                    )
        return self

    @cached_property
    def assets_by_name(self) -> dict[str, Asset]:
        return {a.name: a for a in self.assets}

    def asset(self, name: str) -> Asset:
        return self.assets_by_name[name]

    def iter_checks(self) -> Iterator[tuple[Asset, IcmpCheck | SnmpCheck | SipCheck]]:
        for asset in self.assets:
            for check in asset.checks:
                if check.enabled:
                    yield asset, check

    def health_policy(self, check_type: str) -> HealthPolicy:
        return self.health.get(check_type) or HealthPolicy()  # type: ignore[call-overload]

    def check_interval(self, asset: Asset, check: CheckCommon) -> float:
        return check.interval or self.defaults.interval(check.type, asset.kind)  # type: ignore[attr-defined]

    def probe_addresses(self) -> set[str]:
        """Every address a probe of this config may send packets to."""
        out: set[str] = set()
        for asset, check in self.iter_checks():
            if isinstance(check, IcmpCheck):
                out.add(check.address or asset.address or "")
            elif isinstance(check, SnmpCheck):
                agent = self.asset(check.agent) if check.agent else asset
                out.add(agent.address or "")
            elif isinstance(check, SipCheck):
                uri = check.uri or (asset.sip.uri if asset.sip else "")
                if m := _SIP_URI_RE.match(uri):
                    out.add(m.group("host").strip("[]"))
        out.discard("")
        return out
