"""What depends on what, and which services a set of faulty assets impairs. Pure.

Dependencies come from the inventory: an asset's ``depends_on`` plus, per check, the check's
own ``depends_on`` (the voice gateway's provincial SIP trunk runs over the voice circuit even
though the gateway itself does not). A fault whose cause is an active outage upstream is a
*symptom* of that outage; the root cause is the upstream fault that has no faulty ancestor of
its own, so a dead CE router explains dead circuits, which explain a dead trunk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from noc.config import AnyOf, NocConfig


@dataclass(frozen=True)
class ServiceImpairment:
    """How one service is affected: fully (a need unmet) or partially (a redundant group thinned)."""

    service: str
    full: bool
    down_assets: tuple[str, ...]
    group_size: int = 0  # members of the thinned any_of group (partial impairment)
    group_down: int = 0

    @property
    def group_fraction(self) -> float:
        return self.group_down / self.group_size if self.group_size else 0.0


@dataclass
class Topology:
    parents: dict[str, tuple[str, ...]]
    check_parents: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    services: dict[str, list[str | tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: NocConfig) -> Topology:
        parents = {a.name: tuple(a.depends_on) for a in config.assets}
        check_parents = {
            (a.name, c.check_name): tuple(dict.fromkeys([*a.depends_on, *c.depends_on]))
            for a in config.assets
            for c in a.checks
        }
        services = {
            s.name: [tuple(n.any_of) if isinstance(n, AnyOf) else n for n in s.needs]
            for s in config.services
        }
        return cls(parents, check_parents, services)

    def direct_parents(self, asset: str, check: str | None = None) -> tuple[str, ...]:
        if check is not None and (asset, check) in self.check_parents:
            return self.check_parents[(asset, check)]
        return self.parents.get(asset, ())

    def ancestors(self, asset: str, check: str | None = None) -> list[str]:
        """Every asset upstream, nearest first (breadth-first), without repeats."""
        seen: dict[str, None] = {}
        queue = deque(self.direct_parents(asset, check))
        while queue:
            node = queue.popleft()
            if node in seen or node == asset:
                continue
            seen[node] = None
            queue.extend(self.parents.get(node, ()))
        return list(seen)

    def root_cause(self, asset: str, check: str | None, faulty: Iterable[str]) -> str | None:
        """The upstream faulty asset that explains a fault on (asset, check), or None.

        Of the faulty ancestors, the one with no faulty ancestor of its own is the root; when
        there are several independent roots (two dead uplinks), the nearest one is chosen.
        """
        faulty = set(faulty)
        candidates = [a for a in self.ancestors(asset, check) if a in faulty]
        for candidate in candidates:
            if not any(up in faulty for up in self.ancestors(candidate)):
                return candidate
        return candidates[0] if candidates else None

    def dependent_checks(self, asset: str) -> set[tuple[str, str]]:
        """(asset, check) pairs that are the asset's own or run over it (phones over the gateway,
        the trunk over the voice circuit): what to re-probe when its state changes."""
        return {
            key for key in self.check_parents if key[0] == asset or asset in self.ancestors(*key)
        }

    def effectively_down(self, down: Iterable[str]) -> set[str]:
        """``down`` plus every asset that needs one of them (asset-level dependencies only:
        a dead voice circuit takes the gateway's trunk check with it, not the gateway)."""
        down = set(down)
        return down | {a for a in self.parents if any(up in down for up in self.ancestors(a))}

    def needs_check(self, service: str, asset: str, check: str) -> bool:
        """Whether ``service`` needs one check of an asset (the gateway's trunk): it needs the asset,
        and everything the check runs over beyond the asset's own dependencies (the trunk runs over
        the voice circuit, so a service that does not use the voice circuit cannot use the trunk).
        A check with no dependencies of its own is needed by every service that needs the asset."""
        names = {
            a
            for need in self.services.get(service, ())
            for a in (need if isinstance(need, tuple) else (need,))
        }
        if asset not in names:
            return False
        own = set(self.check_parents.get((asset, check), ())) - set(self.parents.get(asset, ()))
        reach = names | {up for a in names for up in self.ancestors(a)}
        return own <= reach

    def impaired_services(
        self, down: Iterable[str], checks: Iterable[tuple[str, str]] = ()
    ) -> list[ServiceImpairment]:
        """Services affected when the ``down`` assets (and everything needing them) are down, and
        the ``checks`` (asset, check) are down on assets that otherwise answer: a check impairs
        only the services that need it (:meth:`needs_check`)."""
        base = self.effectively_down(down)
        checks = list(checks)
        out = []
        for name, needs in self.services.items():
            down = base | {a for a, c in checks if self.needs_check(name, a, c)}
            full_down: list[str] = []
            partial: tuple[int, int] | None = None
            partial_down: list[str] = []
            for need in needs:
                if isinstance(need, tuple):
                    hit = [m for m in need if m in down]
                    if hit and len(hit) == len(need):
                        full_down.extend(hit)
                    elif hit:
                        partial_down.extend(hit)
                        if partial is None or len(hit) / len(need) > partial[1] / partial[0]:
                            partial = (len(need), len(hit))
                elif need in down:
                    full_down.append(need)
            if full_down:
                out.append(ServiceImpairment(name, True, tuple(full_down)))
            elif partial is not None:
                out.append(
                    ServiceImpairment(name, False, tuple(partial_down), partial[0], partial[1])
                )
        return out


def upstream_map(config: NocConfig) -> dict[str, frozenset[str]]:
    """Every asset → itself and everything it depends on (asset-level ``depends_on``): planned
    work on any of these covers the asset. Alert muting and the SLA read maintenance through this
    one map, so a window that excuses a failure also mutes its alerts, and the other way round."""
    topology = Topology.from_config(config)
    return {a.name: frozenset({a.name, *topology.ancestors(a.name)}) for a in config.assets}
