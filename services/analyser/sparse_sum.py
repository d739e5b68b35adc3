"""Sum value rows by int64 key over a stream (a sparse accumulator: token x feature, feature x feature).

Batches are buffered and merged with one ``torch.unique`` + ``index_add_`` when the buffer outgrows the merged
table, so the amortised cost is a sort of each entry a few times, never a dense key-space array.
"""

from __future__ import annotations

import torch
from torch import Tensor


class SparseSum:
    """Accumulates ``values[n, width]`` rows under int64 ``keys[n]``; ``result()`` gives unique keys and sums."""

    def __init__(self, width: int, device: str, min_merge: int = 1 << 20):
        self.width = width
        self.device = device
        self.min_merge = min_merge
        self._keys = torch.zeros(0, dtype=torch.long, device=device)
        self._values = torch.zeros((0, width), device=device)
        self._buffer: list[tuple[Tensor, Tensor]] = []
        self._buffered = 0

    def add(self, keys: Tensor, values: Tensor) -> None:
        """Add rows; duplicate keys (within or across calls) are summed."""
        if values.dim() != 2 or values.shape != (keys.numel(), self.width):
            raise ValueError(f"SparseSum.add: values {tuple(values.shape)} do not match {keys.numel()} keys")
        if keys.numel() == 0:
            return
        self._buffer.append((keys, values.float()))
        self._buffered += keys.numel()
        if self._buffered >= max(self.min_merge, self._keys.numel()):
            self._merge()

    def _merge(self) -> None:
        if not self._buffer:
            return
        keys = torch.cat([self._keys, *(k for k, _ in self._buffer)])
        values = torch.cat([self._values, *(v for _, v in self._buffer)])
        unique, inverse = torch.unique(keys, sorted=True, return_inverse=True)
        summed = torch.zeros((unique.numel(), self.width), device=values.device)
        summed.index_add_(0, inverse, values)
        self._keys, self._values = unique, summed
        self._buffer, self._buffered = [], 0

    def result(self) -> tuple[Tensor, Tensor]:
        """Sorted unique keys ``[u]`` and their summed values ``[u, width]``."""
        self._merge()
        return self._keys, self._values
