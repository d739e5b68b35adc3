"""Streaming example selection: per-feature top-k contexts and per-(feature, activation bin) random samples.

Both keep, for every kept example, the feature's activation on every token of the window around it, taken from the
batch's encoded activations at the moment the example enters a list, so no second pass is needed.

- Top-k: one entry per (context, feature), its max-activating token; candidates are filtered against the feature's
  current k-th value before any sort.
- Quantile samples: the firings of a feature are split into half-decade activation bins on the run's log grid
  (:mod:`.stats`); each bin keeps a uniform random sample (the m smallest of an iid random key per firing, i.e.
  reservoir sampling), so weak activations are shown as faithfully as strong ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .slots import SlotTopM
from .stats import BINS_PER_DECADE, LogGrid

BINS_PER_BUCKET = BINS_PER_DECADE // 2
"""Grid bins per quantile bucket: half a decade of activation."""


@dataclass
class Batch:
    """One encoded batch of whole contexts and its sparse firings (BOS positions already left out)."""

    acts: Tensor
    """Dense feature activations ``[n_ctx, T, d_sae]``."""
    tokens: Tensor
    """Token ids ``[n_ctx, T]`` (long)."""
    contexts: Tensor
    """Global context index of each row ``[n_ctx]`` (long)."""
    rows: Tensor
    """Flat token index (ctx * T + pos) of each firing ``[nnz]``."""
    feats: Tensor
    """Feature of each firing ``[nnz]``."""
    values: Tensor
    """Activation of each firing ``[nnz]``."""

    @property
    def context_length(self) -> int:
        return int(self.tokens.shape[1])


@dataclass(frozen=True)
class Window:
    """Tokens of context kept left and right of an example's centre token."""

    left: int
    right: int

    @property
    def width(self) -> int:
        return self.left + 1 + self.right


def gather_windows(batch: Batch, rows: Tensor, feats: Tensor, window: Window) -> tuple[Tensor, Tensor]:
    """Activations ``[c, W]`` of ``feats`` and token ids ``[c, W]`` around flat ``rows``; -1 / 0 outside the context."""
    T = batch.context_length
    ctx, pos = rows // T, rows % T
    offsets = torch.arange(-window.left, window.right + 1, device=rows.device)
    p = pos[:, None] + offsets[None, :]
    valid = (p >= 0) & (p < T)
    pc = p.clamp(0, T - 1)
    acts = batch.acts[ctx[:, None], pc, feats[:, None]]
    toks = batch.tokens[ctx[:, None], pc]
    return torch.where(valid, acts, torch.zeros_like(acts)), torch.where(
        valid, toks, torch.full_like(toks, -1)
    )


def _payload_spec(window: Window, with_value: bool) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    spec: dict[str, tuple[tuple[int, ...], torch.dtype]] = {
        "context": ((), torch.long),
        "position": ((), torch.long),
        "acts": ((window.width,), torch.float32),
        "tokens": ((window.width,), torch.int32),
    }
    if with_value:
        spec["value"] = ((), torch.float32)
    return spec


def _payload(batch: Batch, rows: Tensor, feats: Tensor, window: Window) -> dict[str, Tensor]:
    acts, toks = gather_windows(batch, rows, feats, window)
    T = batch.context_length
    return {"context": batch.contexts[rows // T], "position": rows % T, "acts": acts, "tokens": toks}


class TopKExamples:
    """The k highest-activating contexts per feature (one entry per context, at its max token)."""

    def __init__(self, d_sae: int, k: int, window: Window, device: str):
        self.d_sae, self.window = d_sae, window
        self.slots = SlotTopM(d_sae, k, _payload_spec(window, with_value=False), device)

    def update(self, batch: Batch) -> int:
        """Offer this batch's firings; return how many entered a top-k list."""
        cand = (batch.values > self.slots.threshold(batch.feats)).nonzero().squeeze(1)
        if cand.numel() == 0:
            return 0
        rows, feats, values = batch.rows[cand], batch.feats[cand], batch.values[cand]
        best = _max_per_context(rows // batch.context_length, feats, values, self.d_sae)
        rows, feats, values = rows[best], feats[best], values[best]
        return self.slots.offer(feats, values, lambda i: _payload(batch, rows[i], feats[i], self.window))


def _max_per_context(ctx: Tensor, feats: Tensor, values: Tensor, d_sae: int) -> Tensor:
    """Indices of the highest-value entry of each (context, feature) group."""
    order = torch.argsort(values, descending=True, stable=True)
    keys = ctx[order] * d_sae + feats[order]
    order = order[torch.argsort(keys, stable=True)]
    keys = ctx[order] * d_sae + feats[order]
    first = torch.ones_like(keys, dtype=torch.bool)
    first[1:] = keys[1:] != keys[:-1]
    return order[first]


class QuantileSamples:
    """A uniform random sample of firings per (feature, half-decade activation bucket)."""

    def __init__(
        self, d_sae: int, grid: LogGrid, per_bucket: int, window: Window, device: str, seed: int = 0
    ):
        self.d_sae, self.grid, self.window = d_sae, grid, window
        self.n_buckets = -(-grid.n_bins // BINS_PER_BUCKET)
        self.slots = SlotTopM(
            d_sae * self.n_buckets, per_bucket, _payload_spec(window, with_value=True), device
        )
        self._gen = torch.Generator(device=device).manual_seed(seed)

    def update(self, batch: Batch) -> int:
        """Offer this batch's firings with fresh random keys; return how many entered a sample."""
        if batch.values.numel() == 0:
            return 0
        bucket = self.grid.bin_of(batch.values) // BINS_PER_BUCKET
        slots = batch.feats * self.n_buckets + bucket
        keys = torch.rand(batch.values.shape, generator=self._gen, device=batch.values.device)
        rows, feats, values = batch.rows, batch.feats, batch.values

        def payload(i: Tensor) -> dict[str, Tensor]:
            return {**_payload(batch, rows[i], feats[i], self.window), "value": values[i]}

        return self.slots.offer(slots, keys, payload)

    def bucket_range(self, bucket: int) -> tuple[float, float]:
        """Activation range [low, high) of a bucket on the grid."""
        lo = bucket * BINS_PER_BUCKET
        return self.grid.edge(lo), self.grid.edge(min(lo + BINS_PER_BUCKET, self.grid.n_bins))
