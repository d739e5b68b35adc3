"""Feature x feature co-firing counts on the first tokens of the stream, and Jaccard neighbours from them.

For every token, each pair of features firing on it (i < j) is counted: the pairs come straight from the row-major
firing list (no sort), and are added into a dense upper-triangular ``[d_sae, d_sae]`` int32 table when that fits in
``DENSE_LIMIT_BYTES`` (a scatter-add, no sort), else into a sparse sort-merged table. The cost grows with
tokens x L0^2, so counting covers a bounded prefix of the stream (``coactivation_tokens``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .sparse_sum import SparseSum

DENSE_LIMIT_BYTES = 4 << 30
"""Largest dense co-firing table (d_sae^2 x 4 bytes); beyond it pairs are kept sparse."""
PAIRS_PER_CHUNK = 1 << 23
"""Most feature pairs materialised at once: a dense SAE (L0 in the thousands) has ~L0^2/2 pairs per token, so a
batch is split into token chunks whose pairs fit (memory stays ~PAIRS_PER_CHUNK x 40 bytes, whatever L0 is)."""


def row_pairs(rows: Tensor, feats: Tensor) -> tuple[Tensor, Tensor]:
    """All (i, j) entry-index pairs with the same row and i < j; ``rows`` must be sorted (row-major order)."""
    n = rows.numel()
    if n == 0:
        empty = torch.zeros(0, dtype=torch.long, device=rows.device)
        return empty, empty
    _, counts = torch.unique_consecutive(rows, return_counts=True)
    start = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    length = torch.repeat_interleave(counts, counts)
    after = length - (torch.arange(n, device=rows.device) - start) - 1
    left = torch.repeat_interleave(torch.arange(n, device=rows.device), after)
    first = torch.repeat_interleave(torch.cumsum(after, 0) - after, after)
    right = left + 1 + (torch.arange(left.numel(), device=rows.device) - first)
    return left, right


def _pair_chunks(rows: Tensor, limit: int | None = None) -> list[tuple[int, int]]:
    """Split sorted ``rows`` into entry ranges of whole rows whose pair counts add up to at most ~``limit``."""
    limit = PAIRS_PER_CHUNK if limit is None else limit
    if rows.numel() == 0:
        return []
    _, counts = torch.unique_consecutive(rows, return_counts=True)
    pairs = counts * (counts - 1) // 2
    if int(pairs.sum()) <= limit:
        return [(0, rows.numel())]
    ends = torch.cumsum(counts, 0).tolist()
    chunks, lo, acc, start = [], 0, 0, 0
    for end, p in zip(ends, pairs.tolist(), strict=True):
        if acc and acc + p > limit:
            chunks.append((lo, start))
            lo, acc = start, 0
        acc += p
        start = end
    chunks.append((lo, start))
    return chunks


class CoActivation:
    """Counts how often each pair of features fires on the same token, over at most ``budget`` tokens."""

    def __init__(self, d_sae: int, budget: int, device: str):
        self.d_sae, self.budget = d_sae, budget
        self.fires = torch.zeros(d_sae, dtype=torch.long, device=device)
        self.dense: Tensor | None = None
        self.sparse: SparseSum | None = None
        if d_sae * d_sae * 4 <= DENSE_LIMIT_BYTES:
            self.dense = torch.zeros((d_sae, d_sae), dtype=torch.int32, device=device)
        else:
            self.sparse = SparseSum(1, device)
        self.n_tokens = 0

    @property
    def full(self) -> bool:
        return self.n_tokens >= self.budget

    def update(self, rows: Tensor, feats: Tensor, n_tokens: int) -> None:
        """Add one batch's firings (row-major ``rows`` in ``[0, n_tokens)``, ``feats``), up to the token budget."""
        take = min(n_tokens, self.budget - self.n_tokens)
        if take <= 0:
            return
        self.n_tokens += take
        keep = rows < take
        rows, feats = rows[keep], feats[keep]
        self.fires.index_add_(0, feats, torch.ones_like(feats))
        for lo, hi in _pair_chunks(rows):
            self._count_pairs(rows[lo:hi], feats[lo:hi])

    def _count_pairs(self, rows: Tensor, feats: Tensor) -> None:
        left, right = row_pairs(rows, feats)
        a, b = feats[left], feats[right]
        keys = torch.minimum(a, b) * self.d_sae + torch.maximum(a, b)  # upper triangle
        if self.dense is not None:
            self.dense.view(-1).index_add_(0, keys, torch.ones_like(keys, dtype=torch.int32))
        elif self.sparse is not None:
            self.sparse.add(keys, torch.ones((keys.numel(), 1), device=keys.device))

    def neighbours(self, n: int, chunk: int = 2048) -> dict[int, list[tuple[int, float]]]:
        """Feature -> up to ``n`` (other feature, Jaccard index of firing) pairs, highest first; only co-firing ones."""
        fires = self.fires.float()
        out: dict[int, list[tuple[int, float]]] = {}
        for lo in range(0, self.d_sae, chunk):
            hi = min(lo + chunk, self.d_sae)
            both = self._rows(lo, hi).float()
            union = fires[lo:hi, None] + fires[None, :] - both
            jac = torch.where(both > 0, both / union.clamp(min=1), torch.full_like(both, -1.0))
            top = jac.topk(min(n, self.d_sae), dim=1)
            vals, idx = top.values.cpu().numpy(), top.indices.cpu().numpy()
            for r in range(hi - lo):
                live = vals[r] > 0
                if live.any():
                    out[lo + r] = [
                        (int(j), float(v)) for j, v in zip(idx[r][live], vals[r][live], strict=True)
                    ]
        return out

    def _rows(self, lo: int, hi: int) -> Tensor:
        """Symmetric co-firing counts of features ``lo..hi`` with every feature, ``[hi - lo, d_sae]`` (diagonal 0)."""
        if self.dense is not None:
            return self.dense[lo:hi] + self.dense[:, lo:hi].T
        assert self.sparse is not None
        keys, values = self.sparse.result()
        i, j = keys // self.d_sae, keys % self.d_sae
        out = torch.zeros((hi - lo, self.d_sae), device=keys.device)
        for a, b in ((i, j), (j, i)):
            sel = (a >= lo) & (a < hi)
            out.index_put_((a[sel] - lo, b[sel]), values[sel, 0], accumulate=True)
        return out
