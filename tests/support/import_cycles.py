"""Fail on any import cycle among the product's modules: ``python tests/support/import_cycles.py``.

import-linter's ``acyclic_siblings`` contract (pyproject.toml) keeps sibling *packages* acyclic;
this keeps *modules* acyclic too, a package's ``__init__`` included (``noc.cli`` importing
``noc.cli.alerts`` which imports ``noc.cli`` back is a cycle the contract does not see). It
reads the same graph import-linter does (grimp), imports under ``TYPE_CHECKING`` left out.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import grimp

PACKAGES = ("noc", "probes", "alerting", "sla", "incident_runbooks")


def cycles(packages: Iterable[str] = PACKAGES) -> list[list[str]]:
    """Each set of modules that import one another in a ring (strongly connected, > 1 module)."""
    graph = grimp.build_graph(*packages, exclude_type_checking_imports=True, cache_dir=None)
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    return _strongly_connected(imports)


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a deep import chain must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    ring = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        ring.append(member)
                        if member == node:
                            break
                    if len(ring) > 1:
                        found.append(sorted(ring))
    return sorted(found)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout's packages
    found = cycles()
    for ring in found:
        print("import cycle among: " + ", ".join(ring), file=sys.stderr)
    if not found:
        print(f"no import cycles among the modules of {', '.join(PACKAGES)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
