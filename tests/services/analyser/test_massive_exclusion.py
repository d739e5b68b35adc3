"""Positions training left out (BOS/EOS anywhere in a context, massive-norm sinks) feed no analysis statistic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from support.activations import write_resid_set
from support.configs import tiny_pass_settings

from services.analyser.accumulate import FeaturePass
from services.analyser.analyse import run_pass
from shared.config import AnalyseConfig
from shared.sae import SAE, SAEConfig, create_sae
from shared.shards import ActivationSet

BOS = 99


def test_excluded_tokens_feed_no_statistic_but_stay_in_windows():
    n_ctx, T, d_sae = 6, 8, 4
    gen = torch.Generator().manual_seed(0)
    acts = torch.rand((n_ctx, T, d_sae), generator=gen)
    acts[:, 1, 0] = 100.0  # an attention sink at position 1 drives feature 0 far above its real activations
    keep = torch.ones((n_ctx, T), dtype=torch.bool)
    keep[:, :2] = False  # position 0 (BOS) and the sink at 1
    settings = tiny_pass_settings(d_sae, top_k=3, quantile_samples=0)
    fp = FeaturePass(settings, "cpu")
    fp.update(acts, torch.zeros((n_ctx, T), dtype=torch.long), torch.arange(n_ctx), None, keep)

    body = acts[:, 2:, :].reshape(-1, d_sae)  # positions 0 (BOS) and 1 (sink) excluded
    assert fp.stats.n_tokens == n_ctx * (T - 2)
    assert torch.equal(fp.stats.count, (body > 0).sum(0))
    assert torch.equal(fp.stats.max, body.max(0).values)
    assert fp.stats.max[0] < 100.0


def _separator_run(tmp_path: Path) -> tuple[SAE, ActivationSet, np.ndarray, np.ndarray]:
    """Contexts with BOS = EOS at position 0 and as document separators mid-context, one massive-norm token; an SAE
    whose latent 0 fires only on separators and latent 1 only on the massive token; cfg.json records what its
    training left out (BOS, norms above 50)."""
    n_ctx, T, d = 12, 10, 8
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 100, size=(n_ctx, T)).astype(np.int32)
    tokens[:, 0] = BOS
    tokens[2, 4] = tokens[7, 6] = tokens[7, 2] = BOS  # document separators inside contexts
    acts = rng.normal(size=(n_ctx, T, d)).astype(np.float32)
    acts[tokens == BOS, 0] += 10.0
    acts[5, 3, 1] = 500.0  # an attention sink
    aset = write_resid_set(tmp_path / "acts", acts, tokens, 5, model="m", layer=0, bos_token_id=BOS)
    cfg = SAEConfig("relu", d, 6, apply_b_dec_to_input=False,
                    extra={"exclude_bos": True, "norm_threshold": 50.0})  # fmt: skip
    sae = create_sae(cfg)
    with torch.no_grad():
        sae.W_enc.copy_(torch.from_numpy(rng.normal(size=(d, 6)).astype(np.float32)))
        sae.W_enc[:, :2] = torch.eye(d)[:, :2]
        sae.b_enc.copy_(torch.tensor([-8.0, -100.0, 0.0, 0.0, 0.0, 0.0]))
    return sae, aset, acts, tokens


def test_the_analyser_leaves_out_separators_mid_context_and_massive_tokens(tmp_path: Path):
    sae, aset, acts, tokens = _separator_run(tmp_path)
    with torch.no_grad():
        feats = sae.encode(torch.from_numpy(acts)).numpy()
    assert (feats[tokens == BOS, 0] > 0).all() and (feats[5, 3, 1] > 0), "the planted latents fire"
    cfg = AnalyseConfig(run=str(tmp_path), batch_tokens=40, device="cpu")
    fp = run_pass(sae, aset, cfg, torch.device("cpu"))
    kept = tokens != BOS
    kept[5, 3] = False
    assert fp.stats.n_tokens == int(kept.sum())
    assert fp.stats.count[0] == 0 and fp.stats.count[1] == 0, "no statistics from separators or the sink"
    np.testing.assert_array_equal(fp.stats.count.numpy(), (feats[kept] > 0).sum(0))
    np.testing.assert_allclose(fp.stats.max.numpy(), feats[kept].max(0), rtol=1e-6)
