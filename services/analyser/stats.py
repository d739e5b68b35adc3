"""Per-feature running statistics over sparse firings: count, sum, max, min and a log-spaced histogram.

Histogram bins are fixed up front on one global log grid: ``BINS_PER_DECADE`` bins per decade spanning
``DECADES_BELOW`` decades below to ``DECADES_ABOVE`` decades above an anchor (the median nonzero activation of the
first batch). Every feature counts into the same grid, so per-feature counts are exact; at the end each feature's
occupied range is regrouped into at most ``histogram_bins`` bins whose edges are grid edges. Values outside the grid
fall into the end bins, and the reported outer edges are widened to the feature's true min / max, so no count is
ever placed in a bin that does not contain it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from shared.features import Histogram

BINS_PER_DECADE = 16
DECADES_BELOW = 5
DECADES_ABOVE = 4


@dataclass(frozen=True)
class LogGrid:
    """A fixed log10 grid of ``n_bins`` bins starting at ``10**log_lo``."""

    log_lo: float
    n_bins: int
    per_decade: int = BINS_PER_DECADE

    @classmethod
    def around(cls, anchor: float) -> LogGrid:
        """The standard grid around an anchor activation value (> 0)."""
        if not anchor > 0 or not math.isfinite(anchor):
            raise ValueError(f"LogGrid.around: anchor must be a positive number, got {anchor}")
        return cls(math.log10(anchor) - DECADES_BELOW, (DECADES_BELOW + DECADES_ABOVE) * BINS_PER_DECADE)

    def bin_of(self, values: Tensor) -> Tensor:
        """Bin index of each positive value, clamped into the grid."""
        idx = torch.floor((torch.log10(values) - self.log_lo) * self.per_decade)
        return idx.clamp_(0, self.n_bins - 1).long()

    def edge(self, i: int) -> float:
        """Lower edge of bin ``i`` (``edge(n_bins)`` is the top of the grid)."""
        return float(10.0 ** (self.log_lo + i / self.per_decade))


class RunningStats:
    """Count, sum, max, min and grid histogram per feature, updated from sparse (feature, value) firings."""

    def __init__(self, d_sae: int, device: str):
        self.d_sae = d_sae
        self.device = device
        self.count = torch.zeros(d_sae, dtype=torch.long, device=device)
        self.total = torch.zeros(d_sae, dtype=torch.float64, device=device)
        self.max = torch.zeros(d_sae, device=device)
        self.min = torch.full((d_sae,), float("inf"), device=device)
        self.grid: LogGrid | None = None
        self.hist: Tensor | None = None
        self.n_tokens = 0

    def update(self, feats: Tensor, values: Tensor, n_tokens: int) -> None:
        """Add one batch: ``feats``/``values`` are the nonzero firings, ``n_tokens`` the tokens they came from."""
        self.n_tokens += n_tokens
        if feats.numel() == 0:
            return
        if self.grid is None:
            self.grid = LogGrid.around(float(values.float().median()))
            self.hist = torch.zeros((self.d_sae, self.grid.n_bins), dtype=torch.long, device=self.device)
        assert self.hist is not None
        self.count.index_add_(0, feats, torch.ones_like(feats))
        self.total.index_add_(0, feats, values.double())
        self.max.scatter_reduce_(0, feats, values, reduce="amax")
        self.min.scatter_reduce_(0, feats, values, reduce="amin")
        flat = feats * self.grid.n_bins + self.grid.bin_of(values)
        self.hist.view(-1).index_add_(0, flat, torch.ones_like(flat))

    def density(self) -> np.ndarray:
        """Fraction of tokens each feature fired on."""
        return (self.count.double() / max(self.n_tokens, 1)).cpu().numpy()

    def mean_active(self) -> np.ndarray:
        """Mean activation over the tokens each feature fired on (0 where it never fired)."""
        return (self.total / self.count.clamp(min=1)).cpu().numpy()

    def histogram(self, feature: int, max_bins: int) -> Histogram:
        """The feature's nonzero-activation histogram, regrouped into at most ``max_bins`` bins."""
        zero_fraction = 1.0 - float(self.count[feature]) / max(self.n_tokens, 1)
        if self.hist is None or self.grid is None or int(self.count[feature]) == 0:
            return Histogram(edges=[], counts=[], zero_fraction=zero_fraction)
        counts = self.hist[feature].cpu().numpy()
        occupied = np.flatnonzero(counts)
        lo, hi = int(occupied[0]), int(occupied[-1]) + 1
        group = math.ceil((hi - lo) / max_bins)
        n = math.ceil((hi - lo) / group)
        grouped = np.add.reduceat(counts[lo:hi], np.arange(0, hi - lo, group))
        edges = [self.grid.edge(lo + i * group) for i in range(n)] + [self.grid.edge(hi)]
        edges[0] = min(edges[0], float(self.min[feature]))  # values below the grid sit in its first bin
        edges[-1] = max(
            edges[-1], float(np.nextafter(float(self.max[feature]), np.inf))
        )  # and above, its last
        return Histogram(edges=edges, counts=[int(c) for c in grouped], zero_fraction=zero_fraction)
