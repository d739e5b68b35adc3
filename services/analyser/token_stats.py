"""Token x feature statistics over the stream: activation sums and firing counts, split label / held-out.

Contexts are split by index: every ``heldout_every``-th context is held out. The label-split counts choose an
auto-label's tokens; the held-out counts score it (so a label is never graded on the tokens it was built from).
The same table powers the token index (features with the highest mean activation on a token) and each feature's
top tokens. Storage is sparse (only (token, feature) pairs that fired), keyed ``token * d_sae + feature``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .examples import Batch
from .sparse_sum import SparseSum

SUM, FIRES_LABEL, FIRES_HELDOUT = 0, 1, 2


def heldout_mask(contexts: Tensor, heldout_every: int) -> Tensor:
    """True for contexts held out for label scoring."""
    return contexts % heldout_every == heldout_every - 1


class TokenStats:
    """Sparse (token, feature) sums and per-token occurrence counts, per split."""

    def __init__(self, d_sae: int, heldout_every: int, device: str):
        if heldout_every < 2:
            raise ValueError(f"heldout_every must be at least 2, got {heldout_every}")
        self.d_sae, self.heldout_every, self.device = d_sae, heldout_every, device
        self.pairs = SparseSum(3, device)
        self.counts = torch.zeros((2, 0), dtype=torch.long, device=device)  # [split, token id]

    def update(self, batch: Batch, token_mask: Tensor) -> None:
        """Add one batch; ``token_mask [n_ctx, T]`` marks the tokens that count (BOS excluded)."""
        held = heldout_mask(batch.contexts, self.heldout_every)
        for split, ctx_mask in ((0, ~held), (1, held)):
            toks = batch.tokens[ctx_mask][token_mask[ctx_mask]]
            self._count(split, toks)
        T = batch.context_length
        toks = batch.tokens.view(-1)[batch.rows]
        held_entry = held[batch.rows // T]
        values = torch.stack(
            [batch.values.float(), (~held_entry).float(), held_entry.float()],
            dim=1,
        )
        self.pairs.add(toks * self.d_sae + batch.feats, values)

    def _count(self, split: int, toks: Tensor) -> None:
        if toks.numel() == 0:
            return
        counts = torch.bincount(toks, minlength=self.counts.shape[1])
        if counts.numel() > self.counts.shape[1]:
            grown = torch.zeros((2, counts.numel()), dtype=torch.long, device=self.device)
            grown[:, : self.counts.shape[1]] = self.counts
            self.counts = grown
        self.counts[split] += counts

    def table(self) -> TokenTable:
        """The accumulated statistics as numpy arrays (on the CPU)."""
        keys, values = self.pairs.result()
        keys_np = keys.cpu().numpy()
        return TokenTable(
            token=keys_np // self.d_sae,
            feature=keys_np % self.d_sae,
            sums=values[:, SUM].double().cpu().numpy(),
            fires_label=np.rint(values[:, FIRES_LABEL].cpu().numpy()).astype(np.int64),
            fires_heldout=np.rint(values[:, FIRES_HELDOUT].cpu().numpy()).astype(np.int64),
            count_label=self.counts[0].cpu().numpy(),
            count_heldout=self.counts[1].cpu().numpy(),
        )


@dataclass
class TokenTable:
    """Flat (token, feature) entries sorted by token then feature, plus per-token occurrence counts."""

    token: np.ndarray
    feature: np.ndarray
    sums: np.ndarray
    """Sum of the feature's activations on the token (both splits)."""
    fires_label: np.ndarray
    fires_heldout: np.ndarray
    count_label: np.ndarray
    """Occurrences of each token id in the label split."""
    count_heldout: np.ndarray

    def count(self, token: np.ndarray) -> np.ndarray:
        """Total occurrences of the given token ids."""
        return self.count_label[token] + self.count_heldout[token]

    def by_feature(self, d_sae: int) -> FeatureTokens:
        """The entries regrouped by feature, most label-split firings first within each feature."""
        order = np.lexsort((-self.fires_heldout, -self.fires_label, self.feature))
        feature = self.feature[order]
        return FeatureTokens(
            token=self.token[order],
            fires_label=self.fires_label[order],
            fires_heldout=self.fires_heldout[order],
            bounds=np.searchsorted(feature, np.arange(d_sae + 1)),
        )


@dataclass
class FeatureTokens:
    """(token, feature) entries sorted by feature; feature ``f`` owns ``[bounds[f], bounds[f + 1])``."""

    token: np.ndarray
    fires_label: np.ndarray
    fires_heldout: np.ndarray
    bounds: np.ndarray

    def of(self, feature: int) -> slice:
        """The slice of ``feature``'s entries."""
        return slice(int(self.bounds[feature]), int(self.bounds[feature + 1]))
