"""The trainer's architecture hooks: JumpReLU's threshold init and L0 warm-up, BatchTopK's threshold estimate and
AuxK's dead mask reaching the BatchTopK family."""

from __future__ import annotations

import pytest
import torch
from support.planted import planted_dead_latent_sae, signed_feature_batches

from services.trainer.data import ActivationDataset, split_segments
from services.trainer.run import train
from services.trainer.train import SAETrainer, l0_at
from shared.config import TrainConfig
from shared.sae import SAEConfig, create_sae, load_sae


def test_l0_coefficient_warms_up_linearly():
    cfg = TrainConfig(architecture="jumprelu", n_steps=100, l0_coefficient=2.0, l0_warmup_steps=4)
    assert [l0_at(s, cfg) for s in range(6)] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]


def jumprelu_trainer(synthetic, train_cfg, tmp_path, **overrides) -> SAETrainer:  # noqa: ANN001
    cfg = train_cfg(synthetic, tmp_path / "run", architecture="jumprelu", n_steps=60, jumprelu_bandwidth=0.2,
                    **overrides)  # fmt: skip
    data = ActivationDataset(synthetic, split_segments(synthetic, cfg.eval_fraction)[0])
    torch.manual_seed(0)
    trainer = SAETrainer(create_sae(SAEConfig("jumprelu", 16, 32)), cfg, data.batches(64, 0, 256))
    trainer.initialise(data.sample(512, 0))
    return trainer


def test_a_fresh_jumprelu_run_starts_at_the_init_threshold_and_keeps_it_nonnegative(
    synthetic, train_cfg, tmp_path
):
    trainer = jumprelu_trainer(
        synthetic, train_cfg, tmp_path, jumprelu_init_threshold=0.07, l0_coefficient=0.5
    )
    assert torch.equal(trainer.sae.threshold.detach(), torch.full((32,), 0.07))
    trainer.fit()
    theta = trainer.sae.threshold.detach()
    assert (theta >= 0).all() and not torch.equal(theta, torch.full((32,), 0.07)), "the thresholds trained"


def test_the_jumprelu_l0_penalty_makes_the_sae_sparser(synthetic, train_cfg, tmp_path):
    def final_l0(coefficient: float) -> float:
        trainer = jumprelu_trainer(synthetic, train_cfg, tmp_path, l0_coefficient=coefficient)
        trainer.fit()
        return trainer.last_metrics["l0"]

    assert final_l0(1.0) < 0.8 * final_l0(0.0)


def test_the_trainer_hands_jumprelu_its_warmed_up_coefficient_and_the_dead_mask(
    synthetic, train_cfg, tmp_path
):
    trainer = jumprelu_trainer(synthetic, train_cfg, tmp_path, l0_coefficient=2.0, l0_warmup_steps=4,
                               pre_act_loss_coefficient=0.1)  # fmt: skip
    seen = []
    loss = trainer.sae.training_loss

    def spy(x, settings):  # noqa: ANN001, ANN202
        seen.append(settings)
        return loss(x, settings)

    trainer.sae.training_loss = spy  # type: ignore[method-assign]
    trainer.fit()
    assert [s.l0_coefficient for s in seen[:6]] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    assert [s.step for s in seen] == list(range(60))
    assert all(s.dead_mask is not None and s.pre_act_loss_coefficient == 0.1 for s in seen)


def test_a_batchtopk_run_saves_its_threshold_estimate_for_per_token_inference(synthetic, train_cfg, tmp_path):
    """The saved SAE encodes with the estimated threshold: on held-out tokens its L0 is close to k."""
    cfg = train_cfg(
        synthetic, tmp_path / "run", architecture="batchtopk", k=3, n_steps=60, topk_threshold_lr=0.1
    )
    sae = load_sae(train(cfg))
    theta = sae.threshold
    assert float(theta.min()) > 0 and torch.equal(theta, theta[:1].expand_as(theta)), "one shared threshold"
    held = ActivationDataset(synthetic, split_segments(synthetic, cfg.eval_fraction)[1]).sample(512, 3)
    l0 = float((sae.encode(held) > 0).sum(-1).float().mean())
    assert 1.5 < l0 < 6, l0


@pytest.mark.parametrize("arch", ["batchtopk", "matryoshka_batchtopk"])
def test_auxk_revives_a_planted_dead_latent_in_the_batchtopk_family(arch):
    """As for TopK: latent 7 (feature -e3) is outbid by latent 6 on every -e3 token; only AuxK trains it."""

    def fires(aux_coefficient: float) -> bool:
        cfg = TrainConfig(
            architecture=arch, k=1, d_sae=8, n_steps=300, batch_size=64, lr=3e-3, aux_k=1,
            aux_k_coefficient=aux_coefficient, dead_feature_threshold=128, normalise_activations="none", device="cpu",
        )  # fmt: skip
        sae = planted_dead_latent_sae(arch)
        trainer = SAETrainer(sae, cfg, signed_feature_batches(0))
        fired = []
        track = trainer._track

        def spy(x: torch.Tensor, out) -> None:  # noqa: ANN001
            fired.append(bool(out.fire_counts[7] > 0))
            track(x, out)

        trainer._track = spy  # type: ignore[method-assign]
        trainer.fit()
        return any(fired)

    assert not fires(0.0)
    assert fires(1 / 32)
