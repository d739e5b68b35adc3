"""Comparing runs: one point per evaluated run (L0, EV, CE loss recovered, dead/dense), Pareto fronts, a table.

Used by ``saelab compare`` (run directories) and the gateway's ``compareRuns`` query (database rows), so both
show the same numbers and the same front. Imports no torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

METRICS = ("explained_variance", "ce_loss_recovered")
"""The reconstruction measures read against L0 (higher is better; lower L0 is better)."""


@dataclass(frozen=True)
class ComparePoint:
    """One run's evaluation, as the Pareto view shows it."""

    run: str
    """Run id (database) or run directory (CLI)."""
    name: str
    architecture: str
    d_sae: int | None
    k: int | None
    sparsity_coefficient: float | None
    """The L1 coefficient (relu, gated) or the L0 coefficient (jumprelu); None for the TopK family."""
    l0: float | None
    explained_variance: float | None
    ce_loss_recovered: float | None
    dead_fraction: float | None
    dense_fraction: float | None
    n_tokens: int | None
    """Held-out tokens the reconstruction metrics were measured on."""

    @property
    def evaluated(self) -> bool:
        return self.l0 is not None and self.explained_variance is not None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def point_from_eval(
    run: str, name: str, train: dict[str, Any], result: dict[str, Any] | None
) -> ComparePoint:
    """A point from a run's train config and its eval.json (None when not evaluated yet)."""
    result = result or {}
    arch = str(train.get("architecture", "relu"))
    coefficient = train.get("l0_coefficient") if arch == "jumprelu" else train.get("l1_coefficient")
    n_tokens = result.get("n_tokens")
    return ComparePoint(
        run=run,
        name=name,
        architecture=arch,
        d_sae=train.get("d_sae"),
        k=train.get("k"),
        sparsity_coefficient=None if train.get("k") is not None else _num(coefficient),
        l0=_num(result.get("l0")),
        explained_variance=_num(result.get("explained_variance")),
        ce_loss_recovered=_num(result.get("ce_loss_recovered")),
        dead_fraction=_num(result.get("dead_fraction")),
        dense_fraction=_num(result.get("dense_fraction")),
        n_tokens=int(n_tokens) if isinstance(n_tokens, int) else None,
    )


def pareto_front(points: Sequence[ComparePoint], metric: str) -> set[int]:
    """Indices of the points no other point dominates on (lower L0, higher ``metric``): another point dominates
    one when its L0 is no higher and its metric no lower, one of the two strictly. Unmeasured points are out."""
    if metric not in METRICS:
        raise ValueError(f"metric: {metric!r} is not one of {', '.join(METRICS)}")
    measured = [
        (i, p.l0, getattr(p, metric))
        for i, p in enumerate(points)
        if p.l0 is not None and getattr(p, metric) is not None
    ]
    front = set()
    for i, l0, y in measured:
        dominated = any((l0b <= l0 and yb >= y) and (l0b < l0 or yb > y) for j, l0b, yb in measured if j != i)
        if not dominated:
            front.add(i)
    return front


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def format_compare_table(points: Sequence[ComparePoint]) -> str:
    """A plain-text table, sorted by architecture then L0; ``*`` marks the L0-EV front, ``+`` the L0-CE front."""
    ev_front, ce_front = pareto_front(points, "explained_variance"), pareto_front(points, "ce_loss_recovered")
    order = sorted(range(len(points)), key=lambda i: (points[i].architecture, points[i].l0 or math.inf))
    header = ("run", "architecture", "d_sae", "k / coef", "L0", "EV", "CE rec", "dead", "dense", "front")
    rows = [header]
    for i in order:
        p = points[i]
        knob = str(p.k) if p.k is not None else _fmt(p.sparsity_coefficient, ".3g")
        front = ("*" if i in ev_front else "") + ("+" if i in ce_front else "")
        rows.append((
            p.name, p.architecture, str(p.d_sae or "–"), knob, _fmt(p.l0, ".1f"),
            _fmt(p.explained_variance, ".3f"), _fmt(p.ce_loss_recovered, ".3f"),
            _fmt(p.dead_fraction, ".3f"), _fmt(p.dense_fraction, ".3f"), front,
        ))  # fmt: skip
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        "front: * = on the L0-EV Pareto front, + = on the L0-CE-recovered front (lower L0, higher metric)"
    )
    return "\n".join(lines)
