"""What one intervention is: a feature, what to do to its activation (steer, clamp, scale, ablate), and where.

Positions count the tokens after BOS: 0 is the prompt's first token, and generated tokens continue the count. The
BOS position is never intervened on (SAEs are trained without it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

Kind = Literal["steer", "clamp", "scale", "ablate"]
"""``steer``: f' = f + value (adds ``value`` x the decoder direction); ``clamp``: f' = value; ``scale``:
f' = value x f; ``ablate``: f' = 0 (value ignored)."""
KINDS: tuple[str, ...] = get_args(Kind)


class InterventionError(ValueError):
    """An intervention that cannot be applied: the message names the field and the bad value."""


@dataclass(frozen=True)
class Positions:
    """Where an intervention applies: every position (default), every position from ``start`` on, or ``chosen``."""

    start: int | None = None
    """First position (inclusive) of ``from``-style positions; None with ``chosen`` None means all."""
    chosen: tuple[int, ...] | None = None
    """Exactly these positions (any order, no duplicates needed)."""

    def __post_init__(self) -> None:
        if self.start is not None and self.chosen is not None:
            raise InterventionError("positions: give a start position or chosen positions, not both")
        if self.start is not None and self.start < 0:
            raise InterventionError(f"positions: start must be >= 0 (got {self.start})")
        if self.chosen is not None:
            if not self.chosen:
                raise InterventionError("positions: the chosen positions are empty")
            if min(self.chosen) < 0:
                raise InterventionError(f"positions: chosen positions must be >= 0 (got {min(self.chosen)})")

    @classmethod
    def all(cls) -> Positions:
        return cls()

    @classmethod
    def starting(cls, start: int) -> Positions:
        return cls(start=start)

    @classmethod
    def at(cls, *positions: int) -> Positions:
        return cls(chosen=tuple(positions))

    def mask(self, first: int, count: int) -> list[bool]:
        """For the positions ``first .. first + count - 1``: whether each is selected."""
        span = range(first, first + count)
        if self.chosen is not None:
            chosen = set(self.chosen)
            return [p in chosen for p in span]
        start = self.start or 0
        return [p >= start for p in span]


@dataclass(frozen=True)
class Intervention:
    """One change to one feature's activation at some positions."""

    feature: int
    """Feature index, 0 <= feature < d_sae."""
    kind: Kind = "steer"
    value: float = 0.0
    """The added amount (steer), the clamped activation (clamp), the factor (scale); ignored by ablate."""
    positions: Positions = field(default_factory=Positions)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InterventionError(f"kind: {self.kind!r} is not one of {', '.join(KINDS)}")
        if not math.isfinite(self.value):
            raise InterventionError(f"value: must be a finite number (got {self.value})")
        if self.feature < 0:
            raise InterventionError(f"feature: must be >= 0 (got {self.feature})")

    def new_activation(self, f: object) -> object:
        """f' from f (a tensor or a float) under this intervention."""
        if self.kind == "steer":
            return f + self.value  # type: ignore[operator]
        if self.kind == "clamp":
            return f * 0 + self.value  # type: ignore[operator]
        if self.kind == "scale":
            return f * self.value  # type: ignore[operator]
        return f * 0  # type: ignore[operator]


def check_features(interventions: list[Intervention], d_sae: int) -> None:
    """Raise InterventionError naming the first feature index outside the SAE."""
    for iv in interventions:
        if iv.feature >= d_sae:
            raise InterventionError(f"feature: {iv.feature} does not exist (the SAE has {d_sae} features)")
