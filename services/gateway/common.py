"""Types and helpers every schema domain shares: the context accessor, JSON scalar, histogram, sort order."""

from __future__ import annotations

import enum
import math
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

if TYPE_CHECKING:
    from services.gateway.context import Context
    from services.gateway.loaders import Loaders

__all__ = ["JSON", "Histogram", "SortOrder", "ctx", "finite", "loaders"]


def ctx(info: Info) -> Context:
    """The typed per-request context."""
    return info.context  # type: ignore[no-any-return]


def loaders(info: Info) -> Loaders:
    """The request's DataLoaders."""
    return ctx(info).loaders


def finite(value: Any) -> float | None:
    """A float, or None for missing / NaN / infinite values (JSON cannot carry them)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@strawberry.enum
class SortOrder(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type(
    description="A histogram: counts[i] falls in [edges[i], edges[i+1]); len(edges) = len(counts) + 1."
)
class Histogram:
    edges: list[float]
    counts: list[int]
    zero_fraction: float | None = strawberry.field(
        description="Fraction of the values that are exactly zero (not binned); null where it does not apply."
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Histogram | None:
        if not data or "edges" not in data or "counts" not in data:
            return None
        return cls(
            edges=[float(e) for e in data["edges"]],
            counts=[int(c) for c in data["counts"]],
            zero_fraction=finite(data.get("zero_fraction")),
        )
