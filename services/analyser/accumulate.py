"""The per-batch update of one analysis pass: sparse firings of encoded contexts feed every running statistic.

The only dense work per batch besides the encoder is one ``nonzero`` over the batch's activations; every statistic
(counts, sums, max, histograms, top-k, quantile samples, token table, co-activation) is then updated from the sparse
firings, whose number is tokens x L0, far below tokens x d_sae.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .coactivation import CoActivation
from .examples import Batch, QuantileSamples, TopKExamples, Window
from .stats import RunningStats
from .token_stats import TokenStats


@dataclass(frozen=True)
class PassSettings:
    """What the pass keeps (a subset of AnalyseConfig, plus facts about the dataset)."""

    d_sae: int
    top_k: int
    window: Window
    quantile_samples: int
    """Samples per (feature, activation bucket); 0 = no quantile samples."""
    heldout_every: int
    coactivation_tokens: int
    seed: int = 0


class FeaturePass:
    """Running state of the streaming analysis; call :meth:`update` once per encoded batch of whole contexts."""

    def __init__(self, settings: PassSettings, device: str):
        s = self.settings = settings
        self.device = device
        self.stats = RunningStats(s.d_sae, device)
        self.top = TopKExamples(s.d_sae, s.top_k, s.window, device)
        self.quantiles: QuantileSamples | None = None
        self.tokens = TokenStats(s.d_sae, s.heldout_every, device)
        self.coact = CoActivation(s.d_sae, s.coactivation_tokens, device)
        self.n_contexts = 0

    def update(
        self,
        acts: Tensor,
        tokens: Tensor,
        contexts: Tensor,
        topk: tuple[Tensor, Tensor] | None = None,
        keep: Tensor | None = None,
    ) -> None:
        """Add one batch: ``acts [n_ctx, T, d_sae]``, ``tokens [n_ctx, T]``, global ``contexts [n_ctx]``.

        ``topk`` = (values, indices) ``[n_ctx, T, k]`` when the encoder produced them (TopK SAEs): the firings are
        then read from them instead of scanning ``acts``. ``keep [n_ctx, T]`` marks the tokens that feed the
        statistics (``shared.exclusion``: BOS positions and massive-norm tokens are not); every token stays
        visible inside example windows. None = every token counts."""
        n_ctx, T, d_sae = acts.shape
        if d_sae != self.settings.d_sae or tokens.shape != (n_ctx, T):
            raise ValueError(
                f"FeaturePass.update: acts {tuple(acts.shape)} / tokens {tuple(tokens.shape)} mismatch"
            )
        rows, feats, values = _firings(acts, topk)
        if keep is not None and keep.shape != (n_ctx, T):
            raise ValueError(
                f"FeaturePass.update: keep {tuple(keep.shape)} does not match tokens {(n_ctx, T)}"
            )
        token_mask = (
            keep if keep is not None else torch.ones((n_ctx, T), dtype=torch.bool, device=acts.device)
        )
        if not bool(token_mask.all()):
            keep = token_mask.view(-1)[rows]
            rows, feats, values = rows[keep], feats[keep], values[keep]
        batch = Batch(
            acts=acts, tokens=tokens.long(), contexts=contexts, rows=rows, feats=feats, values=values
        )
        self.stats.update(feats, values, int(token_mask.sum()))
        self.top.update(batch)
        if self.quantiles is None and self.stats.grid is not None and self.settings.quantile_samples > 0:
            s = self.settings
            self.quantiles = QuantileSamples(
                d_sae, self.stats.grid, s.quantile_samples, s.window, self.device, s.seed
            )
        if self.quantiles is not None:
            self.quantiles.update(batch)
        self.tokens.update(batch, token_mask)
        self.coact.update(rows, feats, n_ctx * T)
        self.n_contexts += n_ctx


def _firings(acts: Tensor, topk: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor, Tensor]:
    """Flat token index, feature and value of every nonzero activation, in token order."""
    n_ctx, T, d_sae = acts.shape
    if topk is None:
        flat = acts.view(n_ctx * T, d_sae)
        rows, feats = flat.nonzero(as_tuple=True)
        return rows, feats, flat[rows, feats]
    values, idx = topk
    k = values.shape[-1]
    rows = torch.arange(n_ctx * T, device=acts.device).repeat_interleave(k)
    values, feats = values.reshape(-1), idx.reshape(-1)
    live = values > 0
    return rows[live], feats[live], values[live]
