"""Resampling pinned to Anthropic's recipe: when (scheduled, never at the end or in LR decay), what (the loss^2
draw without replacement from a split-wide pool), how (norms, biases, Adam reset), and exact resume across it."""

from __future__ import annotations

import copy
import logging
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from services.trainer.data import ActivationDataset, split_segments
from services.trainer.resample import ENCODER_SCALE, resample_dead
from services.trainer.run import train
from services.trainer.train import SAETrainer
from shared.config import ConfigError, TrainConfig
from shared.sae import SAEConfig, create_sae, load_sae

PLANTED_DEAD = [3, 8, 21]


def resampled_steps(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [
        int(m.group(1)) for r in caplog.records if (m := re.search(r"step (\d+): resampled", r.getMessage()))
    ]


@pytest.fixture
def always_dead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Latents 3, 8, 21 count as dead at every step, so every scheduled resampling point acts."""

    def dead_mask(self: SAETrainer) -> torch.Tensor:
        mask = torch.zeros(self.sae.cfg.d_sae, dtype=torch.bool, device=self.device)
        mask[PLANTED_DEAD] = True
        return mask

    monkeypatch.setattr(SAETrainer, "dead_mask", dead_mask)


# ------------------------------------------------------------------------------------------------ schedule


def test_no_resampling_after_the_last_optimiser_step(
    tmp_path: Path, synthetic, train_cfg, always_dead, caplog
):
    """The 20-step repro: n_steps a multiple of resample_frequency used to resample after the last optimiser step,
    so the exported SAE held untrained latents that fired on a third of all tokens or more."""
    caplog.set_level(logging.INFO, logger="services.trainer")
    train(train_cfg(synthetic, tmp_path / "run", n_steps=20, resample_frequency=10, checkpoint_every=0))
    steps = resampled_steps(caplog)
    assert steps == [10], steps


def test_no_resampling_inside_the_lr_decay_window(tmp_path: Path, synthetic, train_cfg, always_dead, caplog):
    caplog.set_level(logging.INFO, logger="services.trainer")
    cfg = train_cfg(synthetic, tmp_path / "run", n_steps=40, lr_decay_steps=20, resample_frequency=5)
    train(cfg)
    steps = resampled_steps(caplog)
    assert steps == [5, 10], steps  # default last step: half of the 20 steps before decay starts
    assert max(steps) < cfg.n_steps - cfg.lr_decay_steps


def test_resampling_schedule_and_its_validation():
    cfg = TrainConfig(n_steps=1000, lr_decay_steps=200, resample_frequency=100)
    assert list(cfg.resampling_steps()) == [100, 200, 300, 400]
    late = TrainConfig(n_steps=1000, lr_decay_steps=200, resample_frequency=100, resample_last_step=799)
    assert list(late.resampling_steps())[-1] == 700
    assert list(TrainConfig(n_steps=1000).resampling_steps()) == []
    with pytest.raises(ValueError, match="resample_last_step: 800 is not before step 800, where LR decay"):
        TrainConfig(n_steps=1000, lr_decay_steps=200, resample_frequency=100, resample_last_step=800)
    with pytest.raises(ValueError, match="resample_last_step: 1000 is not before step 1000"):
        TrainConfig(n_steps=1000, resample_frequency=100, resample_last_step=1000)
    with pytest.raises(ValueError, match="resample_frequency: 600 is after the last resampling step 500"):
        TrainConfig(n_steps=1000, resample_frequency=600)
    with pytest.raises(ValueError, match="resample_last_step: set, but resample_frequency is 0"):
        TrainConfig(n_steps=1000, resample_last_step=10)


def test_the_old_steps_key_names_its_replacement(tmp_path: Path):
    from shared.config import load_config

    path = tmp_path / "train.yaml"
    path.write_text("dead_steps_threshold: 1000\n")
    with pytest.raises(ConfigError, match="dead_steps_threshold: replaced by dead_feature_threshold"):
        load_config(TrainConfig, path)


# ------------------------------------------------------------------------------------------------ the pool


def test_the_pool_is_drawn_from_the_whole_training_split_without_replacement(tmp_path: Path, make_set):
    aset = make_set(tmp_path / "acts", n_contexts=40, shard_contexts=4)
    train_segments, held = split_segments(aset, 0.25)
    data = ActivationDataset(aset, train_segments, exclude_norm_multiple=None)
    every = data.kept_tokens(train_segments)
    pool = data.draw(100, seed=7)
    rows = {tuple(r) for r in pool.tolist()}
    assert len(pool) == 100 and len(rows) == 100, "no token twice"
    assert rows <= {tuple(r) for r in every.tolist()}, "training tokens only, no held-out ones"
    first_shards = {tuple(r) for r in data.kept_tokens(train_segments[:2]).tolist()}
    assert len(rows - first_shards) > 50, "spread over the split, not the first shards"
    assert torch.equal(data.draw(100, seed=7), pool) and not torch.equal(data.draw(100, seed=8), pool)
    assert len(data.draw(10**6, seed=1)) == len(every)


def test_resampling_does_not_consume_the_batch_stream_and_resumes_exactly(
    tmp_path: Path, synthetic, train_cfg, always_dead
):
    overrides = {
        "n_steps": 40,
        "resample_frequency": 10,
        "resample_last_step": 25,
        "resample_pool_tokens": 300,
    }
    full = train(train_cfg(synthetic, tmp_path / "full", checkpoint_every=5, **overrides))
    cfg = train_cfg(synthetic, tmp_path / "split", checkpoint_every=5, **overrides)
    asked = iter(range(10**6))
    train(
        cfg, should_stop=lambda: next(asked) >= 15
    )  # stops at step 15, between the resamplings at 10 and 20
    train(cfg)
    a, b = load_sae(full), load_sae(tmp_path / "split")
    for name, p in a.named_parameters():
        assert torch.equal(p, getattr(b, name)), name


# ------------------------------------------------------------------------------------------------ the recipe


def small_sae(d_in: int = 6, d_sae: int = 40, seed: int = 0):
    torch.manual_seed(seed)
    sae = create_sae(SAEConfig("relu", d_in, d_sae))
    with torch.no_grad():
        sae.W_enc.mul_(
            torch.rand(1, d_sae) + 0.5
        )  # unequal encoder norms, so "mean of the live ones" matters
        sae.b_dec.normal_()
        sae.b_enc.normal_(0, 0.1)
    return sae


def brute_force_weights(sae, pool: torch.Tensor) -> np.ndarray:
    """P(n) ~ (||x_n - x_hat_n||^2)^2, in float64 NumPy from the weights."""
    W_enc, b_enc = sae.W_enc.detach().double().numpy(), sae.b_enc.detach().double().numpy()
    W_dec, b_dec = sae.W_dec.detach().double().numpy(), sae.b_dec.detach().double().numpy()
    x = pool.double().numpy()
    recon = np.maximum((x - b_dec) @ W_enc + b_enc, 0) @ W_dec + b_dec
    loss = ((x - recon) ** 2).sum(-1)
    return loss**2


def test_picks_are_drawn_with_probability_proportional_to_squared_loss_without_replacement(monkeypatch):
    sae = small_sae()
    opt = torch.optim.Adam(sae.parameters())
    pool = torch.randn(200, 6) * 3
    want = brute_force_weights(sae, pool)
    seen: list[tuple[torch.Tensor, int, bool]] = []
    real = torch.multinomial

    def spy(weights, n, replacement=False, *, generator=None):  # noqa: ANN001, ANN202
        seen.append((weights.clone(), n, replacement))
        return real(weights, n, replacement, generator=generator)

    monkeypatch.setattr(torch, "multinomial", spy)
    dead = torch.tensor([1, 5, 9])
    resample_dead(sae, opt, dead, pool, torch.Generator().manual_seed(0))
    ((weights, n, replacement),) = seen
    assert n == 3 and replacement is False
    np.testing.assert_allclose(weights.numpy() / weights.sum().item(), want / want.sum(), rtol=1e-5)


def test_pick_frequencies_follow_squared_loss():
    """One dead latent, four candidate inputs whose losses are 1:2:3:4, so loss^2 gives 1:4:9:16 (uniform picks or
    loss-proportional picks are far off); the chosen input is read back from the new decoder row."""
    d = 4
    sae = create_sae(SAEConfig("relu", d, 2))
    with torch.no_grad():
        sae.W_enc.zero_()  # reconstructs b_dec = 0 for everything: loss_n = ||x_n||^2
        sae.b_enc.fill_(-1.0)
    pool = torch.eye(d) * torch.tensor([1.0, 2.0, 3.0, 4.0]).sqrt()[:, None]
    start = copy.deepcopy(sae.state_dict())
    counts = np.zeros(d)
    n_draws = 3000
    for seed in range(n_draws):
        sae.load_state_dict(start)
        resample_dead(
            sae,
            torch.optim.Adam(sae.parameters()),
            torch.tensor([0]),
            pool,
            torch.Generator().manual_seed(seed),
        )
        counts[int(sae.W_dec[0].abs().argmax())] += 1
    expected = n_draws * np.array([1, 4, 9, 16]) / 30
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 16.3, (counts, expected)  # p = 0.001 with 3 degrees of freedom


def test_no_input_is_given_to_two_latents():
    sae = small_sae(d_sae=60)
    pool = torch.randn(50, 6) * 2
    dead = torch.arange(10, 50)
    resample_dead(sae, torch.optim.Adam(sae.parameters()), dead, pool, torch.Generator().manual_seed(0))
    rows = sae.W_dec[dead].detach()
    assert len({tuple(r) for r in rows.round(decimals=5).tolist()}) == 40, "40 distinct inputs"


def test_when_the_pool_has_fewer_inputs_than_dead_latents_the_rest_stay():
    sae = small_sae(d_sae=20)
    before = sae.W_dec.detach().clone()
    pool = torch.randn(5, 6)
    dead = torch.arange(0, 12)
    done = resample_dead(
        sae, torch.optim.Adam(sae.parameters()), dead, pool, torch.Generator().manual_seed(0)
    )
    assert done.tolist() == list(range(5))
    assert torch.equal(sae.W_dec[5:].detach(), before[5:])


def test_new_weights_follow_the_recipe_and_adam_forgets_only_the_touched_entries():
    sae = small_sae()
    opt = torch.optim.Adam(sae.parameters(), lr=1e-2)
    x = torch.randn(64, 6)
    for _ in range(3):  # fill Adam's moments everywhere
        opt.zero_grad()
        (sae(x) - x).pow(2).sum().backward()
        opt.step()
    dead = torch.tensor([2, 7, 30])
    alive = torch.ones(40, dtype=torch.bool)
    alive[dead] = False
    enc_norm = float(sae.W_enc.detach()[:, alive].norm(dim=0).mean())
    old = {n: p.detach().clone() for n, p in sae.named_parameters()}
    moments = {(n, k): v.clone() for n, p in sae.named_parameters() for k, v in opt.state[p].items()}
    pool = torch.randn(300, 6) * 2
    resample_dead(sae, opt, dead, pool, torch.Generator().manual_seed(0))

    W_dec, W_enc, b_enc = sae.W_dec.detach(), sae.W_enc.detach(), sae.b_enc.detach()
    centred = pool - old["b_dec"]
    for i in dead.tolist():
        torch.testing.assert_close(W_dec[i].norm(), torch.tensor(1.0))
        cos = (centred @ W_dec[i]) / centred.norm(dim=1)
        assert float(cos.max()) == pytest.approx(1.0, abs=1e-6), (
            "decoder row = a centred pool input, unit norm"
        )
        torch.testing.assert_close(W_enc[:, i], ENCODER_SCALE * enc_norm * W_dec[i])
        assert ENCODER_SCALE == 0.2 and float(b_enc[i]) == 0.0
    assert torch.equal(sae.b_dec.detach(), old["b_dec"])
    for name, p in sae.named_parameters():
        if name == "b_dec":
            continue

        def rows(t: torch.Tensor, which: torch.Tensor, name: str = name) -> torch.Tensor:
            return t[:, which] if name == "W_enc" else t[which]

        assert torch.equal(rows(p.detach(), alive), rows(old[name], alive)), name
        for key in ("exp_avg", "exp_avg_sq"):
            now, then = opt.state[p][key], moments[(name, key)]
            assert (rows(now, dead) == 0).all(), (name, key)
            assert torch.equal(rows(now, alive), rows(then, alive)) and (rows(then, alive) != 0).any(), (
                name,
                key,
            )
