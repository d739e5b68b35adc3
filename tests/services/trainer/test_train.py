"""Trainer: exact resume, checkpoints, metrics, schedules, decoder constraint, folding, resampling, AuxK."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from support.planted import planted_dead_latent_sae, signed_feature_batches
from support.stops import StopAfter

from services.trainer.data import ActivationDataset, split_segments
from services.trainer.run import latest_checkpoint, train
from services.trainer.train import (
    SAETrainer,
    geometric_median,
    l1_at,
    lr_at,
    normalise_rows,
    remove_parallel_grad,
)
from shared.config import ConfigError, TrainConfig
from shared.sae import LossSettings, SAEConfig, create_sae, load_sae

METRIC_KEYS = {
    "step",
    "loss",
    "mse",
    "l1",
    "l0",
    "explained_variance",
    "dead_fraction",
    "silent_in_window_fraction",
    "dense_fraction",
    "lr",
    "tokens_per_s",
}


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "l1_warmup_steps": 10,
            "lr_warmup_steps": 5,
            "lr_decay_steps": 10,
            "resample_frequency": 8,
            "dead_feature_threshold": 64,
        },
        {
            "architecture": "topk",
            "k": 3,
            "dead_feature_threshold": 128,
            "aux_k": 4,
            "aux_k_coefficient": 0.1,
            "max_grad_norm": 0.5,
        },
        {
            "architecture": "batchtopk",
            "k": 3,
            "dead_feature_threshold": 128,
            "aux_k": 4,
            "topk_threshold_lr": 0.2,
        },
        {
            "architecture": "jumprelu",
            "l0_coefficient": 0.05,
            "l0_warmup_steps": 25,
            "jumprelu_bandwidth": 0.5,
            "pre_act_loss_coefficient": 0.01,
            "dead_feature_threshold": 128,
        },
        {
            "architecture": "matryoshka_batchtopk",
            "k": 3,
            "matryoshka_widths": [4, 12],
            "dead_feature_threshold": 128,
        },
        {"architecture": "gated", "l1_coefficient": 0.2, "l1_warmup_steps": 10},
    ],
    ids=["relu", "topk", "batchtopk", "jumprelu", "matryoshka", "gated"],
)
def test_a_stopped_and_resumed_run_ends_bit_identical(tmp_path: Path, synthetic, train_cfg, overrides):
    full = train(train_cfg(synthetic, tmp_path / "full", checkpoint_every=10, **overrides))
    cfg = train_cfg(synthetic, tmp_path / "split", checkpoint_every=10, **overrides)
    seen: list[Path] = []
    train(cfg, should_stop=StopAfter(17), on_checkpoint=seen.append)
    assert not (tmp_path / "split" / "sae.safetensors").exists()
    assert latest_checkpoint(tmp_path / "split").name == "step-00000017"
    assert [p.name for p in seen] == ["step-00000010", "step-00000017"]
    assert all((p / "state.safetensors").is_file() for p in seen[-1:])
    train(cfg, on_checkpoint=seen.append)
    a, b = load_sae(full), load_sae(tmp_path / "split")
    assert a.state_dict().keys() == b.state_dict().keys()
    for name, t in a.state_dict().items():  # parameters and buffers (BatchTopK's threshold estimate)
        assert torch.equal(t, b.state_dict()[name]), name
    ra, rb = rows(full), rows(tmp_path / "split")
    assert [r["step"] for r in rb] == [r["step"] for r in ra] == [10, 20, 30, 40]
    for x, y in zip(ra, rb, strict=True):
        assert {k: v for k, v in x.items() if k != "tokens_per_s"} == {
            k: v for k, v in y.items() if k != "tokens_per_s"
        }


def test_run_directory_layout_metrics_and_progress(tmp_path: Path, synthetic, train_cfg):
    progress: list[tuple[float, float]] = []
    forwarded: list[dict] = []
    run = train(
        train_cfg(synthetic, tmp_path / "run", checkpoint_every=15),
        progress=lambda d, t, m="": progress.append((d, t)),
        on_metrics=forwarded.append,
    )
    assert {p.name for p in run.iterdir()} == {
        "sae.safetensors",
        "cfg.json",
        "train_config.yaml",
        "metrics.jsonl",
        "checkpoints",
    }
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-00000030", "step-00000040"]
    logged = rows(run)
    assert logged == forwarded and all(set(r) >= METRIC_KEYS for r in logged)
    assert logged[-1]["explained_variance"] > logged[0]["explained_variance"]
    assert progress[-1] == (40, 40)
    cfg = json.loads((run / "cfg.json").read_text())
    assert (
        cfg["activations_path"] == str(synthetic.path.resolve())
        and cfg["hook_name"] == "blocks.1.hook_resid_pre"
    )
    assert cfg["saelab"]["norm_threshold"] > 0


def test_the_defaults_checkpoint_every_tenth_of_the_run(tmp_path: Path, synthetic, train_cfg):
    """No checkpoint setting at all: a checkpoint every 10 % of the steps, each handed over as it is written."""
    cfg = train_cfg(synthetic, tmp_path / "run", n_steps=35)
    assert "checkpoint_every" not in cfg.model_fields_set and cfg.checkpoint_steps == 4
    seen: list[int] = []
    train(cfg, on_checkpoint=lambda p: seen.append(int(p.name.split("-")[1])))
    assert seen == [4, 8, 12, 16, 20, 24, 28, 32, 35]
    assert TrainConfig.model_fields["checkpoint_minutes"].default == 5.0


def test_time_based_checkpoints_fire_between_step_checkpoints(
    tmp_path: Path, synthetic, train_cfg, monkeypatch
):
    """checkpoint_minutes: with a clock that moves 2 minutes per step, a 5-minute interval checkpoints every
    third step even with step-based checkpoints off."""
    clock = iter(range(0, 10**6, 120))
    monkeypatch.setattr("services.trainer.train.time.monotonic", lambda: float(next(clock)))
    cfg = train_cfg(synthetic, tmp_path / "run", n_steps=12, checkpoint_every=0, checkpoint_minutes=5)
    seen: list[int] = []
    train(cfg, on_checkpoint=lambda p: seen.append(int(p.name.split("-")[1])))
    assert seen == [3, 6, 9, 12]


def test_saved_sae_works_on_raw_activations(tmp_path: Path, synthetic, train_cfg):
    cfg = train_cfg(synthetic, tmp_path / "run", n_steps=20)
    data = ActivationDataset(synthetic, split_segments(synthetic, cfg.eval_fraction)[0])
    torch.manual_seed(0)
    sae = create_sae(SAEConfig("relu", synthetic.d_in, cfg.d_sae))
    trainer = SAETrainer(sae, cfg, data.batches(cfg.batch_size, 0, 256))
    trainer.initialise(data.sample(512, 0))
    trainer.fit()
    scale = trainer.input_scale
    assert abs(scale - 1.0) > 0.1, "the synthetic data is not at unit scale, so folding matters"
    from services.trainer.run import export

    export(trainer, data, tmp_path / "run")
    saved = load_sae(tmp_path / "run")
    raw = data.sample(256, seed=9)
    with torch.no_grad():
        torch.testing.assert_close(saved(raw), trainer.sae(raw * scale) / scale, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(saved.encode(raw), trainer.sae.encode(raw * scale), rtol=1e-4, atol=1e-4)
    normalised = (raw * scale).norm(dim=1).mean()
    assert abs(float(normalised) - synthetic.d_in**0.5) < 0.5


def test_decoder_rows_stay_unit_norm_and_parallel_gradient_is_removed():
    torch.manual_seed(0)
    W = torch.nn.Parameter(torch.randn(6, 4))
    normalise_rows(W)
    W.grad = torch.randn(6, 4)
    remove_parallel_grad(W)
    torch.testing.assert_close((W.grad * W).sum(1), torch.zeros(6), atol=1e-6, rtol=0)


def _hand_grads(sae, cfg: TrainConfig, x: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
    """Every parameter's gradient of the training loss on ``x``, the unit-norm decoder's parallel part removed."""
    settings = LossSettings(
        step=step,
        l1_coefficient=cfg.l1_coefficient,
        scale_l1_by_decoder_norm=cfg.scale_l1_by_decoder_norm,
        aux_k_coefficient=cfg.aux_k_coefficient,
        dead_mask=torch.zeros(sae.cfg.d_sae, dtype=torch.bool),
    )
    params = dict(sae.named_parameters())
    grads = dict(
        zip(
            params,
            torch.autograd.grad(sae.training_loss(x, settings).loss, list(params.values())),
            strict=True,
        )
    )
    if not cfg.scale_l1_by_decoder_norm:
        w = params["W_dec"].detach()
        grads["W_dec"] = grads["W_dec"] - (grads["W_dec"] * w).sum(1, keepdim=True) * w
    return grads


def _hand_steps(
    sae, cfg: TrainConfig, batches: list[torch.Tensor], clip: float | None
) -> dict[str, torch.Tensor]:
    """The parameters after one step per batch, by hand: the gradients (``_hand_grads``), all scaled by
    min(1, clip / (||g|| + 1e-6)) with ||g|| the 2-norm of every gradient together, Adam's update written out,
    then the decoder rows renormalised (unit-norm decoder only)."""
    params = dict(sae.named_parameters())
    m = {n: torch.zeros_like(p) for n, p in params.items()}
    v = {n: torch.zeros_like(p) for n, p in params.items()}
    (b1, b2), eps = cfg.adam_betas, 1e-8
    for t, x in enumerate(batches, start=1):
        grads = _hand_grads(sae, cfg, x, t - 1)
        with torch.no_grad():
            if clip is not None:
                total = float(torch.sqrt(sum(g.pow(2).sum() for g in grads.values())))
                grads = {n: g * min(1.0, clip / (total + 1e-6)) for n, g in grads.items()}
            for n, p in params.items():
                m[n] = b1 * m[n] + (1 - b1) * grads[n]
                v[n] = b2 * v[n] + (1 - b2) * grads[n] ** 2
                p -= cfg.lr * (m[n] / (1 - b1**t)) / ((v[n] / (1 - b2**t)).sqrt() + eps)
            if not cfg.scale_l1_by_decoder_norm:
                params["W_dec"] /= params["W_dec"].norm(dim=1, keepdim=True)
    return {n: p.detach().clone() for n, p in params.items()}


def _first_grad_norm(sae, cfg: TrainConfig, x: torch.Tensor) -> float:
    """The norm of all of the first step's gradients together (after the decoder projection, as clipped)."""
    return float(torch.sqrt(sum(g.pow(2).sum() for g in _hand_grads(sae, cfg, x, 0).values())))


@pytest.mark.parametrize(
    "arch", [{"architecture": "relu", "scale_l1_by_decoder_norm": True}, {"architecture": "topk", "k": 3}]
)
def test_max_grad_norm_clips_the_total_gradient_before_adams_step(arch):
    """Three steps of the trainer equal Adam on the clipped gradient written out by hand (relu: free decoder;
    topk: the decoder's parallel gradient removed first, rows renormalised after). The batches' scales differ, so
    the gradient norms do, and the clip (half the first step's norm) scales each step by another factor: a clip
    after the step, before the decoder projection, per parameter or with another norm moves the later Adam steps
    (the first is sign-like) and fails."""
    torch.manual_seed(0)
    batches = [torch.randn(32, 8) * scale for scale in (3.0, 1.0, 0.3)]
    base = create_sae(SAEConfig(arch["architecture"], 8, 16, k=arch.get("k")))
    with torch.no_grad():
        base.b_enc.uniform_(-0.1, 0.1)  # a few features fire from the start

    def cfg(max_grad_norm: float | None) -> TrainConfig:
        return TrainConfig(**arch, d_sae=16, n_steps=3, lr=0.01, batch_size=32, max_grad_norm=max_grad_norm)

    unclipped = _hand_steps(copy.deepcopy(base), cfg(None), batches, None)
    clip = 0.5 * _first_grad_norm(copy.deepcopy(base), cfg(None), batches[0])
    for max_grad_norm in (None, clip):
        trainer = SAETrainer(copy.deepcopy(base), cfg(max_grad_norm), iter(batches))
        trainer.fit()
        expected = (
            unclipped if max_grad_norm is None else _hand_steps(copy.deepcopy(base), cfg(clip), batches, clip)
        )
        for name, p in trainer.sae.named_parameters():
            torch.testing.assert_close(p.detach(), expected[name], rtol=1e-5, atol=1e-6, msg=name)
    moved = max(float((unclipped[n] - expected[n]).abs().max()) for n in expected)
    assert moved > 1e-3  # the clip changes this run's trajectory: the test pins something


def test_max_grad_norm_must_be_positive():
    with pytest.raises(ValueError, match="max_grad_norm"):
        TrainConfig(max_grad_norm=0)
    assert TrainConfig().max_grad_norm is None


def test_trained_decoder_rows_have_unit_norm(tmp_path: Path, synthetic, train_cfg):
    cfg = train_cfg(synthetic, tmp_path / "run", n_steps=15, normalise_activations="none")
    data = ActivationDataset(synthetic, split_segments(synthetic, 0.25)[0])
    torch.manual_seed(0)
    trainer = SAETrainer(create_sae(SAEConfig("relu", 16, 32)), cfg, data.batches(64, 0, 256))
    trainer.fit()
    torch.testing.assert_close(trainer.sae.W_dec.norm(dim=1), torch.ones(32))


def test_schedules():
    cfg = TrainConfig(
        n_steps=100, lr=1.0, lr_warmup_steps=10, lr_decay_steps=20, l1_coefficient=2.0, l1_warmup_steps=4
    )
    assert lr_at(0, cfg) == pytest.approx(0.1) and lr_at(9, cfg) == 1.0 and lr_at(50, cfg) == 1.0
    assert (
        lr_at(80, cfg) == 1.0
        and lr_at(90, cfg) == pytest.approx(0.5)
        and lr_at(99, cfg) == pytest.approx(0.05)
    )
    assert [l1_at(s, cfg) for s in range(5)] == [0.5, 1.0, 1.5, 2.0, 2.0]


def test_geometric_median_resists_outliers():
    torch.manual_seed(0)
    points = torch.randn(200, 3) * 0.1 + torch.tensor([1.0, 2.0, 3.0])
    points[:20] = 1000.0
    median = geometric_median(points)
    assert torch.allclose(median, torch.tensor([1.0, 2.0, 3.0]), atol=0.1)
    assert points.mean(0)[0] > 50


def test_resampling_revives_dead_features(tmp_path: Path, synthetic, train_cfg):
    dead = [3, 8, 21]

    def fires_after(resample_frequency: int) -> torch.Tensor:
        cfg = train_cfg(
            synthetic,
            tmp_path / "run",
            n_steps=30,
            resample_frequency=resample_frequency,
            dead_feature_threshold=64 * 5,
            l1_coefficient=0.1,
        )
        data = ActivationDataset(synthetic, split_segments(synthetic, 0.25)[0])
        torch.manual_seed(0)
        trainer = SAETrainer(
            create_sae(SAEConfig("relu", 16, 32)), cfg, data.batches(64, 0, 256), resample_inputs=data.draw
        )
        trainer.initialise(data.sample(512, 0))
        with torch.no_grad():
            trainer.sae.b_enc[dead] = -1e4
        trainer.fit()
        x = data.sample(512, 1) * trainer.input_scale
        return (trainer.sae.encode(x)[:, dead] > 0).sum(0)

    assert (fires_after(0) == 0).all()
    assert (fires_after(10) > 0).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_auxk_revives_a_planted_dead_latent(seed):
    """Latent 7 (feature -e3) is planted dead: a weak encoder, a random decoder, and latent 6 (feature -e2)
    outbids it on -e3 tokens. Without AuxK nothing trains it; with AuxK it learns the residual and fires."""

    def first_fire(aux_coefficient: float) -> int | None:
        cfg = TrainConfig(
            architecture="topk",
            k=1,
            d_sae=8,
            n_steps=300,
            batch_size=64,
            lr=3e-3,
            aux_k=1,
            aux_k_coefficient=aux_coefficient,
            dead_feature_threshold=128,
            normalise_activations="none",
            device="cpu",
        )
        sae = planted_dead_latent_sae("topk")
        trainer = SAETrainer(sae, cfg, signed_feature_batches(seed))
        fired: list[int] = []
        track = trainer._track

        def spy(x: torch.Tensor, out) -> None:
            if out.fire_counts[7] > 0:
                fired.append(trainer.step)
            track(x, out)

        trainer._track = spy  # type: ignore[method-assign]
        trainer.fit()
        return fired[0] if fired else None

    assert first_fire(0.0) is None
    revived = first_fire(1 / 32)
    assert revived is not None and revived < 300


def test_resuming_with_different_settings_names_them(tmp_path: Path, synthetic, train_cfg):
    cfg = train_cfg(synthetic, tmp_path / "run", n_steps=10)
    train(cfg)
    with pytest.raises(ConfigError, match="different d_sae, lr, max_grad_norm"):
        train(cfg.model_copy(update={"lr": 1e-2, "d_sae": 16, "max_grad_norm": 1.0}))
    train(cfg.model_copy(update={"log_every": 5}))  # harmless changes resume


def test_config_and_input_errors_surface(tmp_path: Path, synthetic, train_cfg):
    with pytest.raises(ValueError, match="k: 40 is larger than d_sae"):
        train_cfg(synthetic, tmp_path / "x", architecture="topk", k=40)
    from shared.shards import ShardFormatError

    with pytest.raises(ShardFormatError, match="not found"):
        train(
            train_cfg(synthetic, tmp_path / "x").model_copy(update={"activations": str(tmp_path / "missing")})
        )
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="device: 'cuda'"):
            train(train_cfg(synthetic, tmp_path / "y", device="cuda"))


def test_wandb_is_optional_and_gets_every_metrics_row(tmp_path: Path, synthetic, train_cfg, monkeypatch):
    import sys
    import types

    logged: list[tuple[dict, int]] = []
    run = types.SimpleNamespace(log=lambda row, step: logged.append((row, step)), finish=lambda: None)
    fake = types.ModuleType("wandb")
    fake.init = lambda **kwargs: run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wandb", fake)
    out = train(train_cfg(synthetic, tmp_path / "run", n_steps=20, wandb_project="saelab-test"))
    assert [step for _, step in logged] == [10, 20]
    assert [row for row, _ in logged] == rows(out)
    monkeypatch.setitem(sys.modules, "wandb", None)  # not installed
    with pytest.raises(ConfigError, match="wandb_project: set, but wandb is not installed"):
        train(train_cfg(synthetic, tmp_path / "run2", n_steps=20, wandb_project="saelab-test"))


def test_resume_ignores_half_written_checkpoints(tmp_path: Path, synthetic, train_cfg):
    cfg = train_cfg(synthetic, tmp_path / "run", checkpoint_every=10)
    full = train(train_cfg(synthetic, tmp_path / "full", checkpoint_every=10))
    train(cfg, should_stop=StopAfter(10))
    ckpts = tmp_path / "run" / "checkpoints"
    (ckpts / ".tmp-step-00000015").mkdir()  # killed while writing: never renamed
    (ckpts / ".tmp-step-00000015" / "state.json").write_text("{}")
    (ckpts / "step-00000020").mkdir()  # a directory without its state files
    assert latest_checkpoint(tmp_path / "run").name == "step-00000010"
    train(cfg)
    a, b = load_sae(full), load_sae(tmp_path / "run")
    assert all(torch.equal(p, getattr(b, n)) for n, p in a.named_parameters())


# ------------------------------------------------------------------------------------------- device change


def test_a_run_checkpointed_on_cuda_resumes_on_the_cpu(tmp_path: Path, synthetic, train_cfg, caplog):
    """A checkpoint written on a GPU carries CUDA RNG states (16 bytes, unusable by a CPU generator); resuming on a
    CPU-only machine must work, say what it skipped, and continue exactly like an uninterrupted run."""
    from safetensors.torch import load_file, save_file

    overrides = {"checkpoint_every": 10, "resample_frequency": 5, "dead_feature_threshold": 64}
    full = train(train_cfg(synthetic, tmp_path / "full", **overrides))
    cfg = train_cfg(synthetic, tmp_path / "run", **overrides)
    train(cfg, should_stop=StopAfter(10))
    state = latest_checkpoint(tmp_path / "run") / "state.safetensors"
    tensors = load_file(str(state))
    cuda_like = torch.arange(
        16, dtype=torch.uint8
    )  # what torch.cuda / a CUDA generator's get_state() returns
    tensors |= {"rng.cuda": cuda_like, "rng.generator": cuda_like.clone()}
    save_file(tensors, str(state))
    caplog.set_level("WARNING", logger="services.trainer")
    train(cfg)
    assert any("saved on CUDA" in r.getMessage() for r in caplog.records)
    a, b = load_sae(full), load_sae(tmp_path / "run")
    assert all(torch.equal(p, getattr(b, n)) for n, p in a.named_parameters())


def test_rng_states_are_restored_per_device(monkeypatch: pytest.MonkeyPatch, caplog):
    """On CUDA: a saved CUDA state is restored, a CPU checkpoint's missing one is re-seeded explicitly (logged)."""
    from services.trainer import train as train_module

    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, d="cuda": calls.append(("set", s)))
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: calls.append(("seed", seed)))
    cpu_state = torch.get_rng_state()
    cuda = torch.device("cuda")
    train_module.restore_rng({"rng.torch": cpu_state, "rng.cuda": torch.ones(16, dtype=torch.uint8)}, cuda, 7)
    assert calls[0][0] == "set" and torch.equal(calls[0][1], torch.ones(16, dtype=torch.uint8))
    caplog.set_level("WARNING", logger="services.trainer")
    train_module.restore_rng({"rng.torch": cpu_state}, cuda, 7)
    assert calls[1] == ("seed", 7) and "CUDA RNG re-seeded with 7" in caplog.text
    assert set(train_module.rng_state(torch.device("cpu"))) == {"rng.torch"}
