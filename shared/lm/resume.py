"""Rerun a causal LM from a hook on: the blocks before the hook give back the outputs they computed in a forward before.

A change made only at ``blocks.L.hook_<kind>`` (an ablation check, say) leaves every block before it as it was, so
a second forward of the same sequence need not run them again. ``BlockPrefix(lm, hook)`` keeps, while
``recording()``, the output of the last block the hook leaves unchanged; while ``replaying(start)``, for a forward
of the same sequence's positions from ``start`` on, those blocks' ``forward`` return the kept output's rows from
``start`` on instead of computing. The model's own embedding, position, mask, final norm and head code runs
unchanged; only the blocks from the hook on compute.

- Blocks skipped: for ``resid_pre``, ``attn_out``, ``mlp_in``, ``mlp_out`` at L, blocks 0..L-1; for ``resid_post``
  at L, 0..L (the hook, a forward hook of block L, then reads the kept output). Module hooks still run around a
  skipped block's ``forward``, so a function ``patching`` installed there applies.
- ``start`` > 0 goes with a KV cache cropped to ``start`` positions in every layer: positions and masks are computed
  from the cache before the first block runs, the skipped layers' cache is never read or extended, and the other
  layers' cache grows as usual (so the cache after a replay is good for that forward only). ``start`` 0 runs the
  whole sequence, with or without a cache.
- The kept output is reproduced exactly only when it is a tensor [B, T, d], or a tuple of such a tensor and Nones
  (older transformers versions); otherwise, or when nothing was recorded, ``replaying`` runs every block and logs
  why at debug level.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from shared.hooknames import HookPoint
from shared.lm.hooks import first_input

if TYPE_CHECKING:
    from shared.lm.model import LanguageModel

log = logging.getLogger(__name__)


def unchanged_blocks(point: HookPoint) -> int:
    """How many leading blocks a change at ``point`` leaves unchanged (their outputs can be reused)."""
    return point.layer + 1 if point.kind == "resid_post" else point.layer


def _reproducible(output: Any) -> tuple[torch.Tensor, int] | str:
    """(the hidden states, the count of Nones after them) of a block's output, or why it cannot be reproduced."""
    rest = 0
    if isinstance(output, tuple) and output and all(o is None for o in output[1:]):
        output, rest = output[0], len(output) - 1
    if isinstance(output, torch.Tensor) and output.ndim == 3:
        return output, rest
    return f"its output is {type(output).__name__}, not hidden states [B, T, d] (alone or with Nones)"


class BlockPrefix:
    """The blocks before ``hook``: their output kept from one forward, given back in a later one (module docstring)."""

    def __init__(self, lm: LanguageModel, hook: str) -> None:
        self.lm = lm
        self.count = unchanged_blocks(lm.hook_point(hook))
        """How many leading blocks a replay skips (0: none, every forward runs in full)."""
        self._kept: torch.Tensor | None = None
        self._rest = 0
        self._why = "nothing was recorded"

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Keep the output of the last unchanged block in every forward inside the ``with`` block (the last one wins)."""
        if self.count == 0:
            yield
            return

        def keep(block: nn.Module, _args: tuple[Any, ...], output: Any) -> None:
            found = _reproducible(output)
            if isinstance(found, str):
                self._kept, self._why = None, f"block {self.count - 1} ({type(block).__name__}): {found}"
            else:
                self._kept, self._rest = found[0].detach().clone(), found[1]

        with self.lm.exclusive():  # before any patching hook: the block's own output, not a replacement
            handle = self.lm.blocks[self.count - 1].register_forward_hook(keep, prepend=True)
            try:
                yield
            finally:
                handle.remove()

    @contextmanager
    def replaying(self, start: int) -> Iterator[bool]:
        """Inside the ``with`` block, forwards of the recorded sequence's positions from ``start`` on skip the
        unchanged blocks; yields whether they do (False: a full forward, the reason logged at debug level)."""
        kept = self._kept
        if self.count == 0 or kept is None:
            if self.count:
                log.debug("%s: every block reruns: %s", self.lm.name, self._why)
            yield False
            return
        if not 0 <= start < kept.shape[1]:
            raise ValueError(
                f"start: must be between 0 and {kept.shape[1] - 1} (the recorded positions), got {start}"
            )
        rows = kept[:, start:].contiguous()
        output: Any = (rows, *[None] * self._rest) if self._rest else rows
        blocks = list(self.lm.blocks[: self.count])

        def replay(block: nn.Module) -> Any:
            def forward(*args: Any, **kwargs: Any) -> Any:
                x, _ = first_input(block, args, kwargs)
                if x.shape[:-1] != rows.shape[:-1]:
                    raise RuntimeError(
                        f"replay from position {start}: a block got input {tuple(x.shape)}, expected "
                        f"{tuple(rows.shape)} (the recorded sequence from position {start} on)"
                    )
                return output

            return forward

        with self.lm.exclusive(), shadowing([(block, replay(block)) for block in blocks]):
            yield True


@contextmanager
def shadowing(forwards: list[tuple[nn.Module, Callable[..., Any]]]) -> Iterator[None]:
    """Inside the ``with`` block each module's ``forward`` is the function paired with it (an instance attribute
    shadowing the class's method; module hooks still run around it); restored after. The caller holds the model."""
    own = [(module, vars(module).get("forward")) for module, _ in forwards]
    for module, fn in forwards:
        setattr(module, "forward", fn)  # noqa: B010 - an instance attribute shadows the method
    try:
        yield
    finally:
        for module, forward in own:
            if forward is None:
                delattr(module, "forward")
            else:
                setattr(module, "forward", forward)  # noqa: B010
