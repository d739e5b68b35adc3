"""Types and helpers every schema domain shares: the context accessor, JSON scalar, histogram, sort order, and
``require_run`` (a run or NOT_FOUND)."""

from __future__ import annotations

import asyncio
import enum
import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from services.gateway.errors import NotFound

if TYPE_CHECKING:
    from services.gateway.context import Context
    from services.gateway.loaders import Loaders
    from shared.db import models as m

__all__ = ["JSON", "Histogram", "Listening", "SortOrder", "ctx", "finite", "loaders", "require_run"]


def ctx(info: Info) -> Context:
    """The typed per-request context."""
    return info.context  # type: ignore[no-any-return]


def loaders(info: Info) -> Loaders:
    """The request's DataLoaders."""
    return ctx(info).loaders


async def require_run(info: Info, run_id: str) -> m.Run:
    """The run row, or NOT_FOUND naming the id."""
    row = await loaders(info).runs.load(str(run_id))
    if row is None:
        raise NotFound(f"run {run_id!r} not found", runId=str(run_id))
    return row


def optional(description: str) -> Any:
    """A field that may be left out (null when it is)."""
    return strawberry.field(default=None, description=description)


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


class Listening:
    """An event stream that starts listening now, so a caller can read the current state afterwards and miss
    nothing in between (the in-process bus subscribes at the first step; Redis after its SUBSCRIBE round trip)."""

    def __init__(self, stream: AsyncIterator[Any]) -> None:
        self._stream = stream
        self._first: asyncio.Future[Any] | None = asyncio.ensure_future(stream.__anext__())

    async def started(self) -> Listening:
        for _ in range(3):  # a few loop turns: the subscription step runs before any database read
            await asyncio.sleep(0)
        return self

    def __aiter__(self) -> Listening:
        return self

    async def __anext__(self) -> Any:
        if self._first is not None:
            first, self._first = self._first, None
            return await first
        return await self._stream.__anext__()

    async def aclose(self) -> None:
        if self._first is not None:
            self._first.cancel()
            await asyncio.gather(self._first, return_exceptions=True)
            self._first = None
        await self._stream.aclose()  # type: ignore[attr-defined]
