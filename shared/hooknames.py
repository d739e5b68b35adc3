"""Hook point names (TransformerLens style, ``blocks.{L}.hook_<kind>``): parsing and checking, without torch.

The config models and the gateway validate hook names through this module, so it imports nothing heavy. What each
kind reads in each model family is defined in ``shared.lm.families`` and docs/theory.md ("Hook points").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

HookKind = Literal["resid_pre", "resid_post", "attn_out", "mlp_out", "mlp_in"]
HOOK_KINDS: tuple[HookKind, ...] = get_args(HookKind)
"""Every hook kind, in the order the block computes them (attention before MLP)."""
_HOOK_RE = re.compile(r"^blocks\.(\d+)\.hook_([a-z_]+)$")
_ORDER = {kind: n for n, kind in enumerate(("resid_pre", "attn_out", "mlp_in", "mlp_out", "resid_post"))}


class HookError(ValueError):
    """A hook name is malformed, names an unknown kind, or a layer the model does not have."""


@dataclass(frozen=True)
class HookPoint:
    """A parsed hook name: the block index and what is read there (see ``HOOK_KINDS``)."""

    layer: int
    kind: HookKind

    @property
    def name(self) -> str:
        return f"blocks.{self.layer}.hook_{self.kind}"

    @property
    def depth(self) -> tuple[int, int]:
        """Sort key in forward order: block first, then the kind's place inside the block."""
        return self.layer, _ORDER[self.kind]


def valid_hooks_text(n_layers: int | None = None, kinds: Iterable[str] = HOOK_KINDS) -> str:
    """The valid hook names in words, e.g. for an error message."""
    layers = f"0..{n_layers - 1}" if n_layers else "a block number from 0"
    return f"'blocks.<layer>.hook_<kind>' (<layer>: {layers}; <kind>: {' | '.join(kinds)})"


def parse_hook(hook: str, n_layers: int | None = None, kinds: Iterable[str] = HOOK_KINDS) -> HookPoint:
    """Parse ``blocks.{L}.hook_{kind}``; a HookError names the hook, the valid names and a close match.

    ``n_layers`` / ``kinds`` (a model's) narrow what is valid and are named in the message."""
    kinds = tuple(kinds)
    match = _HOOK_RE.match(hook.strip()) if isinstance(hook, str) else None
    if match is not None and match.group(2) in kinds:
        point = HookPoint(int(match.group(1)), match.group(2))  # type: ignore[arg-type]
        if n_layers is None or point.layer < n_layers:
            return point
        raise HookError(
            f"hook {hook!r}: layer {point.layer} out of range; the model has {n_layers} blocks "
            f"(0..{n_layers - 1}); valid hooks: {valid_hooks_text(n_layers, kinds)}"
        )
    hint = ""
    if isinstance(hook, str):
        tail = hook.strip().rsplit(".", 1)[-1].removeprefix("hook_")
        close = difflib.get_close_matches(tail, kinds, n=1, cutoff=0.6)
        if close:
            hint = f" (did you mean hook_{close[0]}?)"
    raise HookError(f"hook {hook!r}: expected {valid_hooks_text(n_layers, kinds)}{hint}")


def parse_hooks(hooks: Iterable[str]) -> list[HookPoint]:
    """Parse several hook names; a HookError names an empty list or a hook given twice."""
    points = [parse_hook(h) for h in hooks]
    if not points:
        raise HookError("hook: the list is empty; give at least one hook name")
    seen: set[HookPoint] = set()
    for point in points:
        if point in seen:
            raise HookError(f"hook {point.name!r} is listed twice")
        seen.add(point)
    return points
