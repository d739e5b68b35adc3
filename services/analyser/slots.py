"""Keep the m largest values per slot (feature, or feature x bin) over a stream, with payloads, without full sorts.

Every slot holds its m best values sorted descending. A batch of candidates is first filtered against each slot's
current m-th value (one gather and compare per candidate), so after warm-up almost nothing survives; only the
survivors are sorted, ranked within their slot and merged with the touched slots' current lists. Payloads (context
index, window activations, ...) are built only for candidates that actually enter a list.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

PayloadFn = Callable[[Tensor], dict[str, Tensor]]
"""Builds payload rows for the given candidate indices (into the offered candidate arrays)."""


class SlotTopM:
    """Per-slot top-m values with named payload tensors of shape ``[n_slots, m, ...]``."""

    def __init__(
        self, n_slots: int, m: int, payload: dict[str, tuple[tuple[int, ...], torch.dtype]], device: str
    ):
        if n_slots < 1 or m < 1:
            raise ValueError(f"SlotTopM: n_slots ({n_slots}) and m ({m}) must be positive")
        self.n_slots, self.m = n_slots, m
        self.values = torch.full((n_slots, m), float("-inf"), device=device)
        self.payload = {
            name: torch.zeros((n_slots, m, *shape), dtype=dtype, device=device)
            for name, (shape, dtype) in payload.items()
        }

    def threshold(self, slots: Tensor) -> Tensor:
        """The value a candidate in each of ``slots`` must beat (the slot's current m-th value)."""
        return self.values[slots, -1]

    def offer(self, slots: Tensor, values: Tensor, make_payload: PayloadFn) -> int:
        """Merge candidates (slot id, value); return how many entered a list."""
        keep = (values > self.threshold(slots)).nonzero().squeeze(1)
        if keep.numel() == 0:
            return 0
        slots, values = slots[keep], values[keep]
        # Sort survivors by (slot, value desc) and rank them within their slot; at most m per slot can matter.
        order = torch.argsort(values, descending=True, stable=True)
        order = order[torch.argsort(slots[order], stable=True)]
        slots_s, values_s = slots[order], values[order]
        touched, inverse, counts = torch.unique_consecutive(slots_s, return_inverse=True, return_counts=True)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.arange(slots_s.numel(), device=slots_s.device) - starts[inverse]
        sel = rank < self.m
        inverse, rank, values_s, cand = inverse[sel], rank[sel], values_s[sel], keep[order[sel]]
        # Merge [current m | new m] per touched slot and keep the top m.
        fresh = torch.full((touched.numel(), self.m), float("-inf"), device=values.device)
        fresh_idx = torch.full((touched.numel(), self.m), -1, dtype=torch.long, device=values.device)
        fresh[inverse, rank] = values_s
        fresh_idx[inverse, rank] = cand
        merged, pick = torch.cat([self.values[touched], fresh], dim=1).topk(self.m, dim=1)
        from_new = pick >= self.m
        new_rows, new_cols = from_new.nonzero(as_tuple=True)
        new_cand = fresh_idx[new_rows, pick[new_rows, new_cols] - self.m]
        payload = make_payload(new_cand)
        old_pick = pick.clamp(max=self.m - 1)
        for name, store in self.payload.items():
            rows = store[touched]
            gathered = torch.gather(rows, 1, _expand_index(old_pick, rows))
            gathered[new_rows, new_cols] = payload[name].to(store.dtype)
            store[touched] = gathered
        self.values[touched] = merged
        return int(new_cand.numel())

    def filled(self) -> Tensor:
        """Boolean ``[n_slots, m]``: which entries hold a real value."""
        return torch.isfinite(self.values)


def _expand_index(index: Tensor, like: Tensor) -> Tensor:
    """Broadcast a ``[n, m]`` index over the trailing dims of ``like`` for ``torch.gather`` along dim 1."""
    shape = index.shape + (1,) * (like.dim() - 2)
    return index.view(shape).expand(*index.shape, *like.shape[2:])
