"""Which assets and services an SLA scope covers, and which maintenance takes it down by plan.

Pure, given the inventory: a scope is the site, one service or one asset; each carries the
assets whose failures count against it and the "needs" (alternatives of upstream sets) that
maintenance must cover to make its downtime planned. ``parse_scope`` reads ``--scope``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from noc.config import AnyOf, NocConfig
from noc.core.errors import InputError, NotFoundError
from noc.engine.topology import upstream_map as topology_upstream_map
from sla.compute import Need, Scope

SCOPE_KINDS = ("site", "service", "asset")


class ScopeError(InputError):
    """A ``--scope`` that cannot be read (not ``kind:name``)."""


class UnknownScope(NotFoundError):
    """A well-formed scope naming a site, service or asset the inventory does not have.

    The API answers 404; on the command line the name is an option the operator typed, so the
    CLI treats it as bad usage (exit 2), like an unreadable scope."""

    exit_code = 2


def _upstream(config: NocConfig, names: Iterable[str]) -> frozenset[str]:
    """``names`` and every asset they depend on (planned work there is planned downtime here)."""
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen or name not in config.assets_by_name:
            continue
        seen.add(name)
        stack.extend(config.asset(name).depends_on)
    return frozenset(seen)


def upstream_map(config: NocConfig) -> dict[str, frozenset[str]]:
    """Every asset → itself and what it depends on: maintenance there covers its failures (the
    same map alert muting reads, so muting and the SLA agree on what a window covers)."""
    return topology_upstream_map(config)


def checks_by_asset(config: NocConfig) -> dict[str, frozenset[str]]:
    """Every asset → its enabled checks in today's inventory: the checks whose fresh results make
    a scope monitored (a check added later leaves the time before it unmonitored)."""
    out: dict[str, set[str]] = {}
    for asset, check in config.iter_checks():
        out.setdefault(asset.name, set()).add(check.check_name)
    return {name: frozenset(checks) for name, checks in out.items()}


def _service_needs(config: NocConfig, service: Any) -> tuple[Need, ...]:
    """A hard need is one alternative; an ``any_of`` group is down by plan only when every member is."""
    return tuple(
        tuple(_upstream(config, [m]) for m in (need.any_of if isinstance(need, AnyOf) else [need]))
        for need in service.needs
    )


def site_scope(config: NocConfig) -> Scope:
    """The site is down by plan while maintenance takes at least one of its services down by plan
    (without services: while any asset is under maintenance)."""
    if not config.services:
        needs = tuple((_upstream(config, [a]),) for a in sorted(config.assets_by_name))
        return Scope(
            "site",
            config.site.name,
            frozenset(config.assets_by_name),
            None,
            needs,
            # issue 11 (9c): each asset is a part; a failure is excused only by its own parts' plan
            tuple(zip(sorted(config.assets_by_name), ((need,) for need in needs), strict=True)),
        )
    needed = _upstream(config, (a for s in config.services for a in s.asset_names()))
    needs = tuple(need for s in config.services for need in _service_needs(config, s))
    return Scope(
        "site",
        config.site.name,
        needed,
        frozenset(s.name for s in config.services),
        needs,
        # issue 11 (9c): a failure is excused for the site only by its own services' planned time
        tuple((s.name, _service_needs(config, s)) for s in config.services),
    )


def service_scope(config: NocConfig, name: str) -> Scope:
    service = next((s for s in config.services if s.name == name), None)
    if service is None:
        raise UnknownScope(
            f"unknown service {name!r}; known: {', '.join(s.name for s in config.services) or 'none'}"
        )
    return Scope(
        "service",
        name,
        _upstream(config, service.asset_names()),
        frozenset({name}),
        _service_needs(config, service),
    )


def asset_scope(config: NocConfig, name: str) -> Scope:
    """Down by plan under maintenance of the asset or of anything upstream of it."""
    if name not in config.assets_by_name:
        raise UnknownScope(f"unknown asset {name!r}")
    return Scope("asset", name, frozenset({name}), frozenset(), ((_upstream(config, [name]),),))


def parse_scope(config: NocConfig, text: str | None) -> list[Scope]:
    """``None`` → the site and every service; ``all`` → also every asset with a check;
    ``site[:NAME]``, ``service:NAME``, ``asset:NAME`` → that one scope."""
    if text is None or text.strip() == "":
        return [site_scope(config)] + [service_scope(config, s.name) for s in config.services]
    value = text.strip()
    if value == "all":
        return all_scopes(config)
    kind, _, name = value.partition(":")
    if kind not in SCOPE_KINDS or (kind != "site" and not name):
        raise ScopeError(f"cannot read scope {text!r}; use site, service:NAME, asset:NAME or all")
    if kind == "site":
        if name and name != config.site.name:
            raise UnknownScope(
                f"unknown site {name!r}; this inventory is site {config.site.name!r}"
            )
        return [site_scope(config)]
    return [service_scope(config, name) if kind == "service" else asset_scope(config, name)]


def all_scopes(config: NocConfig) -> list[Scope]:
    """The site, every service and every asset with an enabled check."""
    checked = dict.fromkeys(asset.name for asset, _ in config.iter_checks())
    return (
        [site_scope(config)]
        + [service_scope(config, s.name) for s in config.services]
        + [asset_scope(config, name) for name in checked]
    )
