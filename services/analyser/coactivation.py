"""Feature x feature co-firing counts on the first tokens of the stream, and Jaccard neighbours from them.

Co-firing counts are a sparse product ``B^T B`` of the binary firing matrix ``B [tokens, d_sae]`` of each batch,
accumulated sparsely; the cost grows with tokens x L0^2, so it runs on a bounded prefix (``coactivation_tokens``)
and never allocates a d_sae x d_sae array.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import Tensor

from .sparse_sum import SparseSum


class CoActivation:
    """Counts how often each pair of features fires on the same token, over at most ``budget`` tokens."""

    def __init__(self, d_sae: int, budget: int, device: str):
        self.d_sae, self.budget = d_sae, budget
        self.pairs = SparseSum(1, device)
        self.n_tokens = 0

    @property
    def full(self) -> bool:
        return self.n_tokens >= self.budget

    def update(self, rows: Tensor, feats: Tensor, n_tokens: int) -> None:
        """Add firings (token ``rows`` in ``[0, n_tokens)``, ``feats``) of one batch, up to the token budget."""
        take = min(n_tokens, self.budget - self.n_tokens)
        if take <= 0:
            return
        keep = rows < take
        rows, feats = rows[keep], feats[keep]
        self.n_tokens += take
        if rows.numel() == 0:
            return
        idx = torch.stack([rows, feats])
        ones = torch.ones(rows.numel(), device=rows.device)
        b = torch.sparse_coo_tensor(idx, ones, (take, self.d_sae), check_invariants=False).coalesce()
        with warnings.catch_warnings():  # torch notes that its internal sparse CSR path is beta
            warnings.simplefilter("ignore", UserWarning)
            prod = torch.sparse.mm(b.t().coalesce(), b).coalesce()
        i, j = prod.indices()
        self.pairs.add(i * self.d_sae + j, prod.values().float().unsqueeze(1))

    def neighbours(self, n: int) -> dict[int, list[tuple[int, float]]]:
        """Feature -> up to ``n`` (other feature, Jaccard index) pairs, highest first; itself excluded."""
        keys, values = self.pairs.result()
        keys_np, both = keys.cpu().numpy(), values[:, 0].cpu().numpy()
        i, j = keys_np // self.d_sae, keys_np % self.d_sae
        fires = np.zeros(self.d_sae)
        diag = i == j
        fires[i[diag]] = both[diag]
        off = ~diag
        i, j, both = i[off], j[off], both[off]
        jaccard = both / (fires[i] + fires[j] - both)
        order = np.lexsort((j, -jaccard, i))
        i, j, jaccard = i[order], j[order], jaccard[order]
        out: dict[int, list[tuple[int, float]]] = {}
        starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]]) if i.size else np.array([], dtype=int)
        ends = np.r_[starts[1:], i.size] if i.size else starts
        for s, e in zip(starts, ends, strict=False):
            e = min(e, s + n)
            out[int(i[s])] = [(int(a), float(b)) for a, b in zip(j[s:e], jaccard[s:e], strict=False)]
        return out
