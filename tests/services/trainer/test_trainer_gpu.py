"""CUDA training (bf16 autocast, TF32): runs only where a GPU is present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from services.trainer.run import train
from shared.sae import load_sae

DEVICE = "cuda"

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


ARCHITECTURES = {
    "relu": {},
    "topk": {"architecture": "topk", "k": 4},
    "batchtopk": {"architecture": "batchtopk", "k": 4},
    "jumprelu": {"architecture": "jumprelu", "l0_coefficient": 0.05, "jumprelu_bandwidth": 0.1},
    "matryoshka_batchtopk": {"architecture": "matryoshka_batchtopk", "k": 4, "matryoshka_widths": [8, 16]},
    "gated": {"architecture": "gated", "l1_coefficient": 0.2},
}


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
@pytest.mark.parametrize("bf16", [False, True], ids=["fp32-tf32", "bf16"])
def test_cuda_training_learns_and_saves_a_cpu_loadable_sae(tmp_path: Path, synthetic, train_cfg, arch, bf16):
    extra = ARCHITECTURES[arch]
    run = train(
        train_cfg(synthetic, tmp_path / "run", n_steps=200, device=DEVICE, autocast_bf16=bf16, **extra)
    )
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["explained_variance"] > 0.6
    sae = load_sae(run)
    assert sae.W_enc.device.type == "cpu"


def test_a_run_resumes_across_device_changes(tmp_path: Path, synthetic, train_cfg):
    """CUDA -> CPU -> CUDA through checkpoints (RNG states restored per device, resampling seeded by the step)."""
    cfg = train_cfg(synthetic, tmp_path / "run", device=DEVICE, checkpoint_every=10, resample_frequency=5,
                    dead_feature_threshold=64)  # fmt: skip

    def stop_after(n: int):  # noqa: ANN202
        asked = iter(range(10**6))
        return lambda: next(asked) >= n

    train(cfg, should_stop=stop_after(10))
    train(cfg.model_copy(update={"device": "cpu"}), should_stop=stop_after(10))
    run = train(cfg)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert load_sae(run).W_dec.isfinite().all()
