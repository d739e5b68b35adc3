"""Tokens the trainer excluded (massive-norm attention sinks) feed no analysis statistic, like BOS."""

from __future__ import annotations

import torch

from services.analyser.accumulate import FeaturePass, PassSettings
from services.analyser.examples import Window


def test_excluded_tokens_feed_no_statistic_but_stay_in_windows():
    n_ctx, T, d_sae = 6, 8, 4
    gen = torch.Generator().manual_seed(0)
    acts = torch.rand((n_ctx, T, d_sae), generator=gen)
    acts[:, 1, 0] = 100.0  # an attention sink at position 1 drives feature 0 far above its real activations
    keep = torch.ones((n_ctx, T), dtype=torch.bool)
    keep[:, :2] = False  # position 0 (BOS) and the sink at 1
    settings = PassSettings(
        d_sae=d_sae,
        top_k=3,
        window=Window(2, 1),
        quantile_samples=0,
        heldout_every=3,
        coactivation_tokens=10**9,
    )
    fp = FeaturePass(settings, "cpu")
    fp.update(acts, torch.zeros((n_ctx, T), dtype=torch.long), torch.arange(n_ctx), None, keep)

    body = acts[:, 2:, :].reshape(-1, d_sae)  # positions 0 (BOS) and 1 (sink) excluded
    assert fp.stats.n_tokens == n_ctx * (T - 2)
    assert torch.equal(fp.stats.count, (body > 0).sum(0))
    assert torch.equal(fp.stats.max, body.max(0).values)
    assert fp.stats.max[0] < 100.0
