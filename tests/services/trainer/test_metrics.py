"""Every metric against a brute-force NumPy float64 computation on random data: EV, MSE, L0, dead and dense
fractions (evaluation and the training log), CE loss recovered and KL (with a stand-in LM whose hook is exact)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from services.trainer.data import split_segments
from services.trainer.evaluate import (
    ce_kl_sums,
    ce_metrics,
    format_eval_table,
    reconstruction_metrics,
    sae_metrics,
    special_token_ids,
)
from services.trainer.train import DENSE_DENSITY, SAETrainer, ScaledBatch
from shared.config import TrainConfig
from shared.exclusion import Exclusion
from shared.sae import LossSettings, SAEConfig, create_sae

D_IN, D_SAE = 8, 60


def random_sae(seed: int = 0):
    """A ReLU SAE whose latents span every density: biases from -7 to +3, five latents that can never fire."""
    torch.manual_seed(seed)
    sae = create_sae(SAEConfig("relu", D_IN, D_SAE))
    with torch.no_grad():
        sae.W_enc.mul_(2.0)
        sae.b_dec.normal_()
        sae.b_enc.copy_(torch.linspace(-7, 3, D_SAE))
        sae.b_enc[:5] = -1e3
    return sae


def brute_force(sae, x: np.ndarray) -> dict[str, float]:
    W_enc, b_enc = sae.W_enc.detach().double().numpy(), sae.b_enc.detach().double().numpy()
    W_dec, b_dec = sae.W_dec.detach().double().numpy(), sae.b_dec.detach().double().numpy()
    f = np.maximum((x - b_dec) @ W_enc + b_enc, 0)
    recon = f @ W_dec + b_dec
    rss = ((x - recon) ** 2).sum()
    tss = ((x - x.mean(0)) ** 2).sum()
    density = (f > 0).mean(0)
    return {
        "explained_variance": 1 - rss / tss,
        "mse": rss / len(x),
        "l0": (f > 0).sum(1).mean(),
        "dead_fraction": (density == 0).mean(),
        "dense_fraction": (density > 0.1).mean(),
        "density": density,
    }


# ------------------------------------------------------------------------------------------- reconstruction


def test_evaluation_metrics_match_brute_force():
    sae = random_sae()
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(3000, D_IN)) * 1.5 + 4.0).astype(np.float32)  # far from zero mean: TSS must centre
    got = sae_metrics(sae, torch.from_numpy(x), torch.device("cpu"))
    want = brute_force(sae, x.astype(np.float64))
    density = want["density"]
    assert ((density > 0.01) & (density <= 0.1)).sum() >= 3 and ((density > 0.1) & (density < 1)).sum() >= 3
    assert ((density > 0) & (density < 0.01)).sum() >= 1 and 5 / D_SAE <= want["dead_fraction"] < 0.5
    assert got["explained_variance"] == pytest.approx(want["explained_variance"], rel=1e-7)
    assert got["mse"] == pytest.approx(want["mse"], rel=1e-5)
    assert got["l0"] == pytest.approx(want["l0"], abs=1e-3)
    assert got["dead_fraction"] == want["dead_fraction"]
    assert got["dense_fraction"] == want["dense_fraction"] and DENSE_DENSITY == 0.1
    n_dead = round(want["dead_fraction"] * D_SAE)
    hist = got["density_histogram"]
    assert hist["dead"] == n_dead and sum(hist["counts"]) == D_SAE - n_dead


def test_evaluation_says_over_how_many_tokens_and_warns_when_fewer_exist(tmp_path: Path, make_set):
    aset = make_set(tmp_path / "acts", n_contexts=20, context_length=16, d_in=D_IN, shard_contexts=5)
    _, held = split_segments(aset, 0.25)  # 5 contexts x 15 kept tokens
    exclusion = Exclusion(True, aset.meta.bos_token_id, True, None)
    sae = random_sae()
    enough = reconstruction_metrics(sae, aset, held, exclusion, 50, torch.device("cpu"))
    assert enough["n_tokens"] == 50 and enough["warnings"] == []
    short = reconstruction_metrics(sae, aset, held, exclusion, 50_000, torch.device("cpu"))
    assert short["n_tokens"] == 75 and short["n_tokens_requested"] == 50_000
    assert (
        "only 75 held-out tokens" in short["warnings"][0] and "50,000 were asked for" in short["warnings"][0]
    )
    table = format_eval_table(short)
    assert "fire on none of the 75 tokens" in table and "WARNING: only 75 held-out tokens" in table


# ----------------------------------------------------------------------------------------------- CE and KL


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def brute_ce_kl(clean, spliced, zeroed, ids, counted) -> dict[str, float]:
    """Mean next-token CE over positions t < T-1 whose token is counted, and mean KL(clean || spliced) over
    counted positions, in float64."""
    out: dict[str, float] = {}
    n_ctx, T = ids.shape
    ce_pos = [(b, t) for b in range(n_ctx) for t in range(T - 1) if counted[b, t]]
    for key, logits in (("clean", clean), ("sae", spliced), ("zero", zeroed)):
        lp = log_softmax(logits.astype(np.float64))
        out[key] = float(np.mean([-lp[b, t, ids[b, t + 1]] for b, t in ce_pos]))
    p, q = log_softmax(clean.astype(np.float64)), log_softmax(spliced.astype(np.float64))
    kl = (np.exp(p) * (p - q)).sum(-1)
    out["kl"] = float(kl[counted].mean())
    out["ce_tokens"], out["kl_tokens"] = len(ce_pos), int(counted.sum())
    return out


def test_ce_and_kl_sums_match_brute_force():
    rng = np.random.default_rng(0)
    n_ctx, T, V = 3, 7, 11
    clean, spliced, zeroed = (rng.normal(size=(n_ctx, T, V)).astype(np.float32) * s for s in (2, 2, 3))
    ids = rng.integers(0, V, size=(n_ctx, T))
    counted = rng.random((n_ctx, T)) > 0.3
    sums = ce_kl_sums(*(torch.from_numpy(a) for a in (clean, spliced, zeroed, ids, counted)))
    want = brute_ce_kl(clean, spliced, zeroed, ids, counted)
    assert sums["ce_tokens"] == want["ce_tokens"] and sums["kl_tokens"] == want["kl_tokens"]
    for key in ("clean", "sae", "zero"):
        assert sums[key] / sums["ce_tokens"] == pytest.approx(want[key], rel=1e-12)
    assert sums["kl"] / sums["kl_tokens"] == pytest.approx(want["kl"], rel=1e-12)


def test_kl_is_clean_relative_to_spliced():
    """p = (0.9, 0.1) clean, q = (0.5, 0.5) spliced: KL(p || q) = 0.368 nats, KL(q || p) = 0.511."""
    p, q = np.log([0.9, 0.1]), np.log([0.5, 0.5])
    clean, spliced = torch.tensor(p)[None, None], torch.tensor(q)[None, None]
    sums = ce_kl_sums(
        clean, spliced, spliced, torch.zeros((1, 1), dtype=torch.long), torch.ones((1, 1), dtype=torch.bool)
    )
    forward = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
    assert sums["kl"] == pytest.approx(forward, rel=1e-12) and forward == pytest.approx(0.368064, abs=1e-6)


class MixingLM:
    """A stand-in LM: the hook sees ``emb[ids]``; position t's logits read the (possibly replaced) hook value at t
    and the mean of positions <= t, so a change at any earlier position (BOS included) moves later predictions."""

    def __init__(self, emb: np.ndarray, unembed: np.ndarray, specials: list[int]) -> None:
        self.emb, self.unembed = torch.from_numpy(emb), torch.from_numpy(unembed)
        self.tokenizer = SimpleNamespace(
            bos_token_id=specials[0], eos_token_id=specials[0], pad_token_id=specials[1]
        )

    def logits_with_replacement(self, ids, hook, fn=None):  # noqa: ANN001, ANN201
        h = self.emb[ids]
        if fn is not None:
            h = fn(h)
        return logits_of(h.numpy().astype(np.float64), self.unembed.numpy())


def logits_of(h: np.ndarray, unembed: np.ndarray) -> torch.Tensor:
    causal_mean = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)[None, :, None]
    return torch.from_numpy((h + causal_mean) @ unembed)


def test_ce_loss_recovered_and_kl_follow_saelens_definitions():
    """SAE spliced in at the kept positions only; zero ablation at every position; special tokens (BOS = EOS and
    PAD here) out of the averages; recovered = (CE_zero - CE_sae) / (CE_zero - CE_clean)."""
    rng = np.random.default_rng(0)
    V, T, BOS, PAD = 30, 9, 29, 28
    emb = rng.normal(size=(V, D_IN)) * 2 + 1
    unembed = rng.normal(size=(D_IN, V))
    ids = rng.integers(0, 28, size=(5, T))
    ids[:, 0] = BOS
    ids[1, 4] = BOS  # a separator mid-context
    ids[3, 6] = PAD
    lm = MixingLM(emb, unembed, [BOS, PAD])
    acts = torch.from_numpy(emb[ids].astype(np.float32))
    keep = torch.from_numpy(ids != BOS)
    keep[2, 3] = False  # a massive-norm position: the SAE is not spliced there
    assert special_token_ids(lm.tokenizer) == [PAD, BOS]
    counted = (ids != BOS) & (ids != PAD)
    sae = random_sae()
    result = ce_metrics(sae, lm, torch.from_numpy(ids), acts, keep, 2, torch.device("cpu"))

    h = emb[ids]
    with torch.no_grad():
        recon = sae(torch.from_numpy(h.astype(np.float32))).double().numpy()
    spliced_h = np.where(keep.numpy()[..., None], recon, h)
    clean, spliced, zeroed = (logits_of(v, unembed).numpy() for v in (h, spliced_h, np.zeros_like(h)))
    want = brute_ce_kl(clean, spliced, zeroed, ids, counted)
    assert result["ce_tokens"] == want["ce_tokens"] and result["kl_tokens"] == want["kl_tokens"]
    assert result["ce_loss_clean"] == pytest.approx(want["clean"], rel=1e-9)
    assert result["ce_loss_sae"] == pytest.approx(want["sae"], rel=1e-5)
    assert result["ce_loss_zero_ablation"] == pytest.approx(want["zero"], rel=1e-9)
    recovered = (want["zero"] - want["sae"]) / (want["zero"] - want["clean"])
    assert result["ce_loss_recovered"] == pytest.approx(recovered, rel=1e-4)
    assert result["kl_div"] == pytest.approx(want["kl"], rel=1e-4)
    assert result["hook_activation_rel_error"] < 1e-6


# ------------------------------------------------------------------------------------------- training log


def test_training_metrics_match_brute_force_and_say_what_dead_means():
    cfg = TrainConfig(d_sae=D_SAE, batch_size=500, dead_feature_threshold=1000, normalise_activations="none")
    sae = random_sae()
    trainer = SAETrainer(sae, cfg, iter(()))
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(500, D_IN)) * 1.5 + 4.0 + i).astype(np.float32) for i in range(3)]
    for x in batches:
        out = sae.training_loss(torch.from_numpy(x), LossSettings(l1_coefficient=0.1))
        trainer._track(ScaledBatch.of(torch.from_numpy(x), 1.0, trainer.device), out)
    trainer.step = 3
    since = torch.zeros(D_SAE, dtype=torch.long)
    since[:7] = 1001  # past the threshold: dead
    since[7:10] = 1000  # at it: not yet
    trainer.tokens_since_fired.copy_(since)
    row = trainer.collect_metrics()
    x = np.concatenate(batches).astype(np.float64)
    want = brute_force(sae, x)
    per_step = [brute_force(sae, b.astype(np.float64)) for b in batches]
    assert row["explained_variance"] == pytest.approx(want["explained_variance"], rel=1e-7), (
        "pooled over the window"
    )
    assert row["l0"] == pytest.approx(np.mean([m["l0"] for m in per_step]), abs=1e-3)
    assert row["mse"] == pytest.approx(np.mean([m["mse"] for m in per_step]), rel=1e-5)
    assert row["silent_in_window_fraction"] == want["dead_fraction"]
    assert row["dense_fraction"] == want["dense_fraction"]
    assert row["dead_fraction"] == 7 / D_SAE, (
        "the tracker's: more than dead_feature_threshold tokens since firing"
    )
