"""Real pretrained SmolLM2-135M on TinyStories: each architecture must reach its stated bar on held-out tokens.

One module-scoped activation set (25,600 tokens at layer 15) feeds every run; each run trains for a few hundred
CPU steps and is evaluated by ``evaluate_run`` (the architectures' own encoders: BatchTopK's is its threshold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.collector.collect import collect
from services.trainer.evaluate import evaluate_run, format_eval_table
from services.trainer.run import train
from shared.config import CollectConfig, EvaluateConfig, TrainConfig


@pytest.fixture(scope="module")
def smollm2_acts(tmp_path_factory: pytest.TempPathFactory, smollm2_gguf: Path, tinystories_dir: Path) -> Path:
    return collect(
        CollectConfig(
            model=str(smollm2_gguf),
            hook="blocks.15.hook_resid_pre",
            corpus=str(tinystories_dir),
            context_length=128,
            n_tokens=25_600,
            batch_size=16,
            shard_contexts=64,
            device="cpu",
            output=str(tmp_path_factory.mktemp("smollm2") / "acts"),
        )
    )


def train_and_evaluate(acts: Path, out: Path, ce_contexts: int, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        activations=str(acts), output=str(out), batch_size=1024, eval_fraction=0.1, log_every=50, device="cpu"
    )
    run = train(TrainConfig(**(base | overrides)))
    cfg = EvaluateConfig(run=str(run), n_tokens=4096, ce_contexts=ce_contexts, batch_size=4, device="cpu")
    result = evaluate_run(cfg)
    print(format_eval_table(result))
    assert result["n_tokens"] > 2000, (
        "evaluated on the held-out contexts (BOS and massive-norm tokens excluded)"
    )
    assert result["hook_activation_rel_error"] < 0.01, "the stored activations are the LM's own at the hook"
    assert result["ce_loss_clean"] < result["ce_loss_sae"] < result["ce_loss_zero_ablation"]
    return result


@pytest.mark.slow
def test_smollm2_layer15_relu_sae_reaches_ev_07_at_l0_below_100(tmp_path: Path, smollm2_acts: Path):
    result = train_and_evaluate(
        smollm2_acts,
        tmp_path / "run",
        8,
        architecture="relu",
        d_sae=2048,
        n_steps=300,
        lr=2e-3,
        lr_decay_steps=100,
        l1_coefficient=1.5,
    )
    assert result["explained_variance"] > 0.7
    assert result["l0"] < 100
    assert 0 < result["ce_loss_recovered"] < 1


ARCHITECTURES = {
    # d_sae 1024, 200 steps of 1024 tokens each (lr 2e-3, decayed over the last 60): the bars below are the
    # figures these runs reach (EV, L0 in brackets, measured on this machine) less a margin for seeds and BLAS.
    "batchtopk": ({"architecture": "batchtopk", "k": 32}, 0.78, (25, 50)),  # 0.815 (39)
    "matryoshka_batchtopk": (
        {"architecture": "matryoshka_batchtopk", "k": 32, "matryoshka_widths": [64, 256]},
        0.76,
        (25, 50),
    ),  # 0.798 (39)
    "jumprelu": (  # thresholds move at most ~lr per step: start them at 0.3 and let the pre-act loss revive the
        {  # latents that start below them (Anthropic's loss), at twice the learning rate
            "architecture": "jumprelu",
            "l0_coefficient": 1.0,
            "jumprelu_init_threshold": 0.3,
            "lr": 4e-3,
            "pre_act_loss_coefficient": 0.03,
            "dead_feature_threshold": 20 * 1024,
        },
        0.79,
        (20, 70),
    ),  # 0.832 (47)
    "gated": ({"architecture": "gated", "l1_coefficient": 5.0}, 0.75, (10, 50)),  # 0.790 (30)
}


@pytest.mark.slow
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_smollm2_layer15_each_architecture_reaches_its_bar(tmp_path: Path, smollm2_acts: Path, arch: str):
    overrides, min_ev, (lo, hi) = ARCHITECTURES[arch]
    settings = {"d_sae": 1024, "n_steps": 200, "lr": 2e-3, "lr_decay_steps": 60} | overrides
    result = train_and_evaluate(smollm2_acts, tmp_path / "run", 2, **settings)
    assert result["sae"]["architecture"] == arch
    assert result["explained_variance"] > min_ev
    assert lo < result["l0"] < hi
    assert result["dead_fraction"] < 0.1
    assert result["ce_loss_recovered"] > 0.9
