"""collect -> train -> evaluate end to end on the tiny GPT-2, and the CE/KL plumbing with exact SAEs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from services.collector.collect import collect
from services.trainer.evaluate import EvaluateError, evaluate_run, format_eval_table
from services.trainer.run import train
from shared.config import CollectConfig, EvaluateConfig, TrainConfig
from shared.sae import SAEConfig, create_sae, load_sae, save_sae

EVAL_KEYS = {"explained_variance", "mse", "l0", "dead_fraction", "dense_fraction", "density_histogram",
             "ce_loss_clean", "ce_loss_sae", "ce_loss_zero_ablation", "ce_loss_recovered", "kl_div"}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, tiny_gpt2_dir: Path, small_corpus: Path) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    acts = collect(CollectConfig(model=str(tiny_gpt2_dir), hook="blocks.2.hook_resid_pre", corpus=str(small_corpus),
                                 context_length=32, n_tokens=4096, batch_size=16, shard_contexts=32, device="cpu",
                                 output=str(root / "acts")))  # fmt: skip
    cfg = TrainConfig(activations=str(acts), output=str(root / "run"), d_sae=128, batch_size=128, n_steps=150,
                      lr=3e-3, l1_coefficient=1.0, log_every=50, eval_fraction=0.25, device="cpu")  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return train(cfg)
    finally:
        torch.set_num_threads(threads)


def test_collect_train_evaluate_end_to_end(tiny_run: Path):
    seen: list[tuple[float, float]] = []
    cfg = EvaluateConfig(run=str(tiny_run), n_tokens=512, ce_contexts=8, batch_size=4, device="cpu")
    result = evaluate_run(cfg, progress=lambda done, total, message="": seen.append((done, total)))
    assert seen[-1] == (512 + 8 * 32, 512 + 8 * 32), "one token counter over both phases"
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert set(result) >= EVAL_KEYS
    assert json.loads((tiny_run / "eval.json").read_text()) == result
    assert result["n_tokens"] == 512
    assert result["explained_variance"] > 0.5 and 0 < result["l0"] < 128
    assert result["hook_activation_rel_error"] < 1e-4, (
        "stored activations are what the LM computes at the hook"
    )
    assert result["ce_loss_sae"] > 0 and result["kl_div"] >= 0
    hist = result["density_histogram"]
    assert sum(hist["counts"]) + hist["dead"] == 128
    table = format_eval_table(result)
    assert "CE loss recovered" in table and "explained variance" in table


def replace_sae(run: Path, make) -> None:
    cfg = load_sae(run).cfg
    sae = make(cfg)
    save_sae(sae, run)


def identity_sae(cfg: SAEConfig):
    """relu(x) - relu(-x) = x: an SAE that reconstructs perfectly."""
    d = cfg.d_in
    sae = create_sae(SAEConfig("relu", d, 2 * d, hook_name=cfg.hook_name, model_name=cfg.model_name,
                               activations_path=cfg.activations_path, extra=cfg.extra))  # fmt: skip
    eye = torch.eye(d)
    with torch.no_grad():
        sae.W_enc.copy_(torch.cat([eye, -eye], 1))
        sae.W_dec.copy_(torch.cat([eye, -eye], 0))
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    return sae


def zero_sae_everywhere(cfg: SAEConfig):
    """Reconstructs nothing, and records that its training left no position out: spliced in at every position,
    it is exactly the zero ablation."""
    sae = identity_sae(cfg)
    sae.cfg.extra = cfg.extra | {"exclude_bos": False, "norm_threshold": None}
    with torch.no_grad():
        sae.W_dec.zero_()
    return sae


def test_ce_loss_recovered_is_one_for_a_perfect_sae_and_zero_for_a_zero_sae(tiny_run: Path, tmp_path: Path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    cfg = EvaluateConfig(run=str(run), n_tokens=256, ce_contexts=4, batch_size=4, device="cpu")
    replace_sae(run, identity_sae)
    perfect = evaluate_run(cfg)
    assert perfect["explained_variance"] == pytest.approx(1.0, abs=1e-6)
    assert perfect["ce_loss_recovered"] == pytest.approx(1.0, abs=1e-4)
    assert perfect["kl_div"] == pytest.approx(0.0, abs=1e-5)
    replace_sae(run, zero_sae_everywhere)
    zero = evaluate_run(cfg)
    assert zero["ce_loss_recovered"] == pytest.approx(0.0, abs=1e-6)
    assert zero["ce_loss_sae"] == pytest.approx(zero["ce_loss_zero_ablation"])


def test_evaluating_an_unfinished_run_is_a_clear_error(tmp_path: Path):
    with pytest.raises(EvaluateError, match="no sae.safetensors"):
        evaluate_run(EvaluateConfig(run=str(tmp_path), device="cpu"))
