"""The ``alerting:`` section: receivers (named sets of Apprise URLs) and the route tree.

Shaped after Alertmanager's config: a root route names the default receiver and the group
timers; child routes match on labels and inherit what they leave unset. Pass 1 (pydantic)
checks shapes; :func:`alerting_reference_issues` is pass 2: names used must exist (receivers,
assets, services, fault types, group_by labels, the receivers runbook escalation tiers call).

This module must not import ``noc.config`` (which embeds :class:`AlertingConfig`); the name rule
and the asset kinds it shares with the inventory come from ``noc.core``.

With no ``alerting:`` section at all the shipped defaults apply: four receivers, each a
``json://`` webhook on 127.0.0.1:9099 unless an environment variable names a real channel
(``NOC_ALERT_URL`` for noc-oncall). Nobody listens there out of the box, so delivery fails and
the outbox keeps retrying: nothing is lost, and ``noc`` says so in its delivery metrics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from noc.core.units import Duration
from noc.core.validation import Name, StrictModel, duplicate_issues, unknown
from noc.core.vocabulary import ASSET_KINDS, FAULT_TYPES, AssetKind, Level
from noc.core.yamlsource import LocatedData, SourceIssue
from noc.core.yamlsource import Path as DataPath

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

GROUP_LABELS = ("incident", "site", "asset", "asset_kind", "fault_type", "severity", "services")
"""Labels an event carries and a route may ``group_by`` (``incident`` is the incident id)."""

ESCALATION_RECEIVERS = ("noc-oncall", "noc-lead", "carrier-liaison", "purchaser-contact")
"""The receivers the shipped runbooks' escalation tiers notify."""

DEFAULT_ALERT_URL = "json://127.0.0.1:9099/noc"


def _listify(value: object) -> object:
    """A matcher may name one value (``site: lingshui``) or several (``severity: [I, II]``)."""
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


def _check_url(value: SecretStr) -> SecretStr:
    if not _URL_RE.match(value.get_secret_value()):
        raise ValueError(
            "must be an Apprise URL such as wecombot://KEY or mailtos://user:pass@host"
        )
    return value


class Receiver(StrictModel):
    """A named set of Apprise URLs that get the same messages, in one language."""

    name: Name
    urls: list[Annotated[SecretStr, AfterValidator(_check_url)]] = Field(min_length=1)
    locale: Literal["zh-CN", "en"] = "zh-CN"


class Matchers(StrictModel):
    """Label conditions of a route; every given condition must hold, a list means any of."""

    severity: Annotated[list[Level], BeforeValidator(_listify)] = Field(default_factory=list)
    site: Annotated[list[Name], BeforeValidator(_listify)] = Field(default_factory=list)
    asset_kind: Annotated[list[AssetKind], BeforeValidator(_listify)] = Field(default_factory=list)
    service: Annotated[list[Name], BeforeValidator(_listify)] = Field(default_factory=list)
    fault_type: Annotated[list[str], BeforeValidator(_listify)] = Field(default_factory=list)
    asset: Annotated[list[Name], BeforeValidator(_listify)] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


class Route(StrictModel):
    """One node of the route tree; unset fields are inherited from the parent route."""

    model_config = ConfigDict(populate_by_name=True)

    receiver: Name | None = None
    matchers: Matchers = Field(default_factory=Matchers)
    continue_: bool = Field(False, alias="continue")
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Annotated[Duration, Field(gt=0)] | None = None
    repeat_interval: Duration | None = None  # 0 = never re-notify
    routes: list[Route] = Field(default_factory=list)


def _env_url(var: str, fallback: str) -> SecretStr:
    return SecretStr(os.environ.get(var) or fallback)


def default_receivers() -> list[Receiver]:
    """The shipped receivers; read the environment when the config is built, not at import."""
    oncall = os.environ.get("NOC_ALERT_URL") or DEFAULT_ALERT_URL
    return [
        Receiver(name="noc-oncall", urls=[SecretStr(oncall)]),
        Receiver(
            name="noc-lead", urls=[_env_url("NOC_ALERT_URL_LEAD", "json://127.0.0.1:9099/noc-lead")]
        ),
        Receiver(
            name="carrier-liaison",
            urls=[_env_url("NOC_ALERT_URL_CARRIER", "json://127.0.0.1:9099/carrier-liaison")],
        ),
        Receiver(
            name="purchaser-contact",
            urls=[_env_url("NOC_ALERT_URL_PURCHASER", "json://127.0.0.1:9099/purchaser-contact")],
        ),
    ]


def default_route() -> Route:
    """I/II at once, each later change (re-grade, acknowledgement, recovery) within a second, and
    re-notified every 15 min; III/IV batched per site, re-notified every 2 h."""
    return Route(
        receiver="noc-oncall",
        group_by=["site"],
        group_wait=30.0,
        group_interval=300.0,
        repeat_interval=7200.0,
        routes=[
            Route(
                matchers=Matchers(severity=["I", "II"]),
                group_by=["incident"],
                group_wait=0.0,
                group_interval=1.0,
                repeat_interval=900.0,
            ),
            Route(matchers=Matchers(severity=["III", "IV"])),
        ],
    )


class Delivery(StrictModel):
    """How the outbox retries a channel that is down: exponential back-off from ``retry_initial``
    doubling up to ``retry_max``; a message still undelivered after ``give_up_after`` is marked failed.
    A smaller ``retry_max`` shortens the wait after a channel returns, at the cost of more attempts."""

    retry_initial: Annotated[Duration, Field(gt=0)] = 1.0
    retry_max: Annotated[Duration, Field(gt=0)] = 300.0
    give_up_after: Annotated[Duration, Field(gt=0)] = 24 * 3600.0

    @field_validator("retry_max")
    @classmethod
    def _not_below_initial(cls, value: float, info: ValidationInfo) -> float:
        if value < info.data.get("retry_initial", 0.0):
            raise ValueError("must not be shorter than retry_initial")
        return value


class AlertingConfig(StrictModel):
    """Receivers and the route tree. Escalation tiers live in the runbooks and name receivers here."""

    receivers: list[Receiver] = Field(default_factory=default_receivers)
    route: Route = Field(default_factory=default_route)
    # an incident still unacknowledged at its runbook's acknowledge deadline escalates to the first
    # receiver here, at twice the deadline to the second, and so on (each an ``escalated`` event)
    ack_escalation_chain: list[Name] = Field(
        default_factory=lambda: ["noc-lead", "purchaser-contact"]
    )
    delivery: Delivery = Field(default_factory=Delivery)

    def receiver(self, name: str) -> Receiver:
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(f"no receiver {name!r}")

    def receiver_names(self) -> set[str]:
        return {r.name for r in self.receivers}

    def receiver_urls(self) -> dict[str, list[SecretStr]]:
        """For ``alerting.notify.Notifier(receivers=...)``."""
        return {r.name: list(r.urls) for r in self.receivers}


# ----------------------------------------------------------------------------------------
# pass 2: names used must exist


def alerting_reference_issues(
    cfg: AlertingConfig,
    src: LocatedData,
    asset_names: Iterable[str],
    service_names: Iterable[str],
    runbook_receivers: Iterable[str] = (),
    base: DataPath = ("alerting",),
    check_urls: bool = True,
) -> list[SourceIssue]:
    """Every dangling name in the alerting section, located (``base`` is where it sits in the file);
    with ``check_urls``, also every receiver URL Apprise cannot parse (no network involved)."""
    issues: list[SourceIssue] = []
    assets, services = set(asset_names), set(service_names)
    # the default chain names runbook receivers, which are checked below; only a chain the operator
    # wrote is checked here, so one missing receiver is not reported twice
    for i, name in enumerate(
        cfg.ack_escalation_chain if "ack_escalation_chain" in cfg.model_fields_set else []
    ):
        if name not in cfg.receiver_names():
            issues.append(
                src.issue(
                    (*base, "ack_escalation_chain", i),
                    unknown("receiver", name, cfg.receiver_names()),
                )
            )
    receiver_names = [r.name for r in cfg.receivers]
    issues.extend(duplicate_issues(src, (*base, "receivers"), receiver_names, "receiver name"))
    for i, receiver in enumerate(cfg.receivers):
        for j, url in enumerate(receiver.urls):
            if check_urls and not apprise_understands(url.get_secret_value()):
                scheme = url.get_secret_value().split("://", 1)[0]
                issues.append(
                    src.issue(
                        (*base, "receivers", i, "urls", j),
                        f"Apprise does not understand this {scheme}:// URL (see docs/alerting.md "
                        "for WeCom, DingTalk, Feishu, e-mail and webhook forms)",
                    )
                )
    receivers = set(receiver_names)

    root = cfg.route
    root_path: DataPath = (*base, "route")
    if root.receiver is None:
        issues.append(
            src.issue(root_path, "the root route needs a receiver (the default for every alert)")
        )
    if not root.matchers.is_empty():
        issues.append(
            src.issue(
                (*root_path, "matchers"),
                "the root route matches every alert; put matchers on its child routes",
            )
        )

    def walk(route: Route, path: DataPath) -> None:
        if route.receiver is not None and route.receiver not in receivers:
            issues.append(
                src.issue((*path, "receiver"), unknown("receiver", route.receiver, receivers))
            )
        m = route.matchers
        for field, values, known, kind in (
            ("asset", m.asset, assets, "asset"),
            ("service", m.service, services, "service"),
            ("fault_type", m.fault_type, FAULT_TYPES, "fault type"),
        ):
            for j, value in enumerate(values):
                if value not in known:
                    issues.append(
                        src.issue(
                            (*path, "matchers", field, j)
                            if _is_list(src, (*path, "matchers", field))
                            else (*path, "matchers", field),
                            unknown(kind, value, known),
                        )
                    )
        for j, label in enumerate(route.group_by or []):
            if label not in GROUP_LABELS:
                issues.append(
                    src.issue(
                        (*path, "group_by", j),
                        unknown("label", label, GROUP_LABELS)
                        + f"; labels: {', '.join(GROUP_LABELS)}",
                    )
                )
        for k, child in enumerate(route.routes):
            walk(child, (*path, "routes", k))

    walk(root, root_path)

    for name in sorted(set(runbook_receivers) - receivers):
        issues.append(
            src.issue(
                (*base, "receivers"),
                f"runbook escalation notifies receiver {name!r}, which is not defined here",
            )
        )
    return issues


def apprise_understands(url: str) -> bool:
    """Apprise has a plugin for the URL and its parameters parse (the secret is never printed)."""
    import apprise  # heavy import, only when a config is checked

    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def _is_list(src: LocatedData, path: DataPath) -> bool:
    node: Any = src.data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return True
    return isinstance(node, list)


__all__ = [
    "ASSET_KINDS",
    "DEFAULT_ALERT_URL",
    "ESCALATION_RECEIVERS",
    "GROUP_LABELS",
    "AlertingConfig",
    "Matchers",
    "Receiver",
    "Route",
    "alerting_reference_issues",
    "default_receivers",
    "default_route",
]
