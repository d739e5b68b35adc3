"""The import graph of shared/, services/ and cli/: no module imports itself back through others (no cycle).

Every import counts, also one inside a function (the way cycles used to be dodged). `lint-imports` (contracts in
pyproject.toml) checks the layers and sibling cycles; this lists every cycle at module level, parent packages
included. Run alone: ``python tests/test_import_graph.py`` (prints the cycles, exits 1 when there is one).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import grimp

PACKAGES = ("shared", "services", "cli")
REPO = Path(__file__).resolve().parents[1]


def import_cycles(packages: tuple[str, ...] = PACKAGES) -> list[list[str]]:
    """Each group of modules that import one another in a loop (strongly connected components of two or more,
    or a module importing itself), sorted; empty when the graph is acyclic."""
    for package in packages:  # tests/shared and tests/services must not stand in for the real packages
        spec = importlib.util.find_spec(package)
        origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
        if origin != REPO / package / "__init__.py":
            raise RuntimeError(
                f"{package} resolves to {origin}, not the repository's package: run from {REPO}"
            )
    graph = grimp.build_graph(*packages, include_external_packages=False)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(
        edges
    ):  # Tarjan's algorithm, iterative (the graph is a few hundred modules deep at most)
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges.get(node, []):
                    groups.append(sorted(group))
    return sorted(groups)


def test_no_import_cycles() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles (each line: modules importing one another):\n" + "\n".join(
        "  " + " <-> ".join(group) for group in cycles
    )


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # python puts tests/ first, where tests/shared would shadow shared
    found = import_cycles()
    for group in found:
        print(" <-> ".join(group))
    print(f"{len(found)} import cycle(s) in {', '.join(PACKAGES)}")
    sys.exit(1 if found else 0)
