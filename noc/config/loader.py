"""Load and check the inventory: pass 1 (shapes, via pydantic) and pass 2 (names, cycles).

Both passes report ``file:line key.path: message`` through :class:`ConfigError`, all at once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from alerting.config import ESCALATION_RECEIVERS, alerting_reference_issues
from noc.config.models import AnyOf, ConfigError, IcmpCheck, NocConfig, SipCheck, SnmpCheck
from noc.core.validation import duplicate_issues, error_message, first_model, unknown
from noc.core.yamlsource import LocatedData, SourceError, SourceIssue, load_located
from noc.core.yamlsource import Path as DataPath

# ----------------------------------------------------------------------------------------
# pass 1: pydantic errors → located, operator-readable messages


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model that owns the unknown key, for a did-you-mean hint."""
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if fields is None:
            # inside list/union: keep the current model unless the part names a union member
            for sub in (IcmpCheck, SnmpCheck, SipCheck, AnyOf):
                if part == getattr(sub.model_fields.get("type"), "default", None):
                    current = sub
            continue
        if part in fields:
            ann = fields[part].annotation
            current = first_model(ann) or current
    return list(getattr(current, "model_fields", {}))


def _pydantic_issues(exc: ValidationError, src: LocatedData) -> list[SourceIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        path: DataPath = src.resolve(err["loc"])
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, (err.get("ctx") or {}).get("discriminator", "type").strip("'"))
        message = error_message(err, _known_fields(NocConfig, path))
        issues.append(src.issue(path, message))
    return issues


# ----------------------------------------------------------------------------------------
# pass 2: references, uniqueness, cycles


def _reference_issues(cfg: NocConfig, src: LocatedData) -> list[SourceIssue]:
    issues: list[SourceIssue] = []
    names = [a.name for a in cfg.assets]
    known = set(names)
    issues.extend(duplicate_issues(src, ("assets",), names, "asset name"))

    def unknown_asset(name: str) -> str:
        return unknown("asset", name, known)

    for i, asset in enumerate(cfg.assets):
        for j, dep in enumerate(asset.depends_on):
            if dep == asset.name:
                issues.append(
                    src.issue(("assets", i, "depends_on", j), "an asset cannot depend on itself")
                )
            elif dep not in known:
                issues.append(src.issue(("assets", i, "depends_on", j), unknown_asset(dep)))
        check_names = Counter(c.check_name for c in asset.checks)
        for k, check in enumerate(asset.checks):
            base = ("assets", i, "checks", k)
            if check_names[check.check_name] > 1:
                issues.append(
                    src.issue(
                        (*base, "name") if check.name else (*base, "type"),
                        f"two checks named {check.check_name!r} on asset {asset.name!r}; give each a name",
                    )
                )
                check_names[check.check_name] = 1  # report the pair once
            for j, dep in enumerate(check.depends_on):
                if dep not in known:
                    issues.append(src.issue((*base, "depends_on", j), unknown_asset(dep)))
            issues.extend(_check_target_issues(cfg, asset, check, base, src))

    service_names = [s.name for s in cfg.services]
    issues.extend(duplicate_issues(src, ("services",), service_names, "service name"))
    for i, service in enumerate(cfg.services):
        for j, need in enumerate(service.needs):
            if isinstance(need, AnyOf):
                for k, name in enumerate(need.any_of):
                    if name not in known:
                        issues.append(
                            src.issue(("services", i, "needs", j, "any_of", k), unknown_asset(name))
                        )
            elif need not in known:
                issues.append(src.issue(("services", i, "needs", j), unknown_asset(need)))

    issues.extend(_cycle_issues(cfg, src, known))
    issues.extend(
        alerting_reference_issues(cfg.alerting, src, known, service_names, ESCALATION_RECEIVERS)
    )
    return issues


def _check_target_issues(cfg, asset, check, base, src) -> list[SourceIssue]:
    issues = []
    if isinstance(check, IcmpCheck) and not (check.address or asset.address):
        issues.append(
            src.issue(
                (*base, "type"), f"icmp check needs an address (asset {asset.name!r} has none)"
            )
        )
    elif isinstance(check, SnmpCheck):
        agent_name = check.agent or asset.name
        agent = cfg.assets_by_name.get(agent_name)
        if check.agent and agent is None:
            issues.append(
                src.issue((*base, "agent"), unknown("asset", check.agent, cfg.assets_by_name))
            )
        elif agent is not None and agent.snmp is None:
            where = (*base, "agent") if check.agent else (*base, "type")
            issues.append(
                src.issue(where, f"snmp check needs SNMP credentials on asset {agent_name!r}")
            )
        elif agent is not None and not agent.address:
            issues.append(src.issue((*base, "type"), f"snmp agent {agent_name!r} has no address"))
    elif isinstance(check, SipCheck) and not (check.uri or asset.sip):
        issues.append(
            src.issue(
                (*base, "type"), f"sip check needs a uri (asset {asset.name!r} has no sip.uri)"
            )
        )
    return issues


def _cycle_issues(cfg: NocConfig, src: LocatedData, known: set[str]) -> list[SourceIssue]:
    """Report each dependency cycle once, at the edge that closes it."""
    index = {a.name: i for i, a in enumerate(cfg.assets)}
    graph = {a.name: [d for d in a.depends_on if d in known and d != a.name] for a in cfg.assets}
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    stack: list[str] = []
    issues: list[SourceIssue] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in graph[node]:
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                pos = cfg.assets[index[node]].depends_on.index(dep)
                issues.append(
                    src.issue(
                        ("assets", index[node], "depends_on", pos),
                        "dependency cycle: " + " -> ".join(cycle),
                    )
                )
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name)
    return issues


# ----------------------------------------------------------------------------------------
# entry points


def parse_config(text: str, file: str = "<config>") -> NocConfig:
    """Validate config ``text`` (both passes); raise ConfigError naming file, line and key path."""
    try:
        src = load_located(text, file)
    except SourceError as exc:
        raise ConfigError(exc.issues) from None
    if not isinstance(src.data, dict):
        raise ConfigError(
            [SourceIssue(file, 1, "", "the top level must be a mapping (site:, assets: …)")]
        )
    try:
        cfg = NocConfig.model_validate(src.data)
    except ValidationError as exc:
        raise ConfigError(_pydantic_issues(exc, src)) from None
    issues = _reference_issues(cfg, src)
    if issues:
        raise ConfigError(sorted(issues, key=lambda i: (i.line or 0, i.path)))
    return cfg


def load_config(path: str | Path) -> NocConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [SourceIssue(str(path), None, "", f"cannot read: {exc.strerror or exc}")]
        ) from None
    return parse_config(text, str(path))
