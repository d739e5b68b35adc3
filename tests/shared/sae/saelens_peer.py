"""The SAELens side of the interop tests: run by the SAELens peer venv's python, never imported by the product.

    <peer python> tests/shared/sae/saelens_peer.py JOB.json

JOB.json: ``x`` (a safetensors file holding ``x`` [N, d_in] float32), ``load`` (folders to open with
``SAE.load_from_disk``), ``pretrained`` (Hub repo + folder for ``SAE.from_pretrained``, from the offline cache the
environment names), ``train`` (SAEs for SAELens's own ``SAETrainer`` to train on ``x`` and save) and ``out``.
For every folder loaded or SAE trained it writes ``<out>/<name>.safetensors`` with SAELens's ``feats = encode(x)``
and ``recon = decode(feats)`` (for a checkpoint taken before the activation scale is folded: ``encode(x * s)``
and ``decode(...) / s``, what SAELens's trainer computes), and prints one JSON line describing each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import sae_lens
import torch
from sae_lens import SAE, TrainingSAE
from sae_lens.config import SAETrainerConfig
from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig
from sae_lens.saes.gated_sae import GatedTrainingSAE, GatedTrainingSAEConfig
from sae_lens.saes.jumprelu_sae import JumpReLUTrainingSAE, JumpReLUTrainingSAEConfig
from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
from sae_lens.training.sae_trainer import SAETrainer
from safetensors.torch import load_file, save_file

TRAINING = {
    "standard": (StandardTrainingSAE, StandardTrainingSAEConfig, {"l1_coefficient": 0.5}),
    "topk": (TopKTrainingSAE, TopKTrainingSAEConfig, {"k": 8}),
    "batchtopk": (BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig, {"k": 8}),
    "jumprelu": (JumpReLUTrainingSAE, JumpReLUTrainingSAEConfig, {"l0_coefficient": 0.1}),
    "gated": (GatedTrainingSAE, GatedTrainingSAEConfig, {"l1_coefficient": 0.5}),
}


SAE_TRAINING_ONLY = ("batchtopk", "matryoshka_batchtopk")


@torch.no_grad()
def outputs(sae: Any, x: torch.Tensor, scale: float | None = None) -> dict[str, torch.Tensor]:
    sae.eval()
    if scale is None:
        feats = sae.encode(x)
        return {"feats": feats.contiguous(), "recon": sae.decode(feats).contiguous()}
    feats = sae.encode(x * scale)
    return {"feats": feats.contiguous(), "recon": (sae.decode(feats) / scale).contiguous()}


def batches(x: torch.Tensor, batch: int):
    while True:
        for start in range(0, len(x) - batch + 1, batch):
            yield x[start : start + batch]


def train(spec: dict[str, Any], x: torch.Tensor, out: Path) -> list[dict[str, Any]]:
    """Train one SAE with SAELens's SAETrainer; save it as SAELens's runner does, plus its mid-run checkpoint."""
    torch.manual_seed(spec.get("seed", 0))
    cls, cfg_cls, knobs = TRAINING[spec["architecture"]]
    cfg = cfg_cls(
        d_in=x.shape[1],
        d_sae=spec["d_sae"],
        dtype="float32",
        device="cpu",
        normalize_activations=spec.get("normalize_activations", "none"),
        **knobs,
    )
    sae = cls(cfg)
    batch, steps = spec.get("batch", 100), spec.get("steps", 30)
    checkpoints = out / f"{spec['name']}-checkpoints"
    trainer_cfg = SAETrainerConfig(
        total_training_samples=batch * steps,
        train_batch_size_samples=batch,
        lr=3e-3,
        lr_end=3e-3,
        device="cpu",
        n_batches_for_norm_estimate=5,
        n_checkpoints=1,
        checkpoint_path=str(checkpoints),
    )
    trainer = SAETrainer(cfg=trainer_cfg, sae=sae, data_provider=batches(x, batch))
    trained = trainer.fit()
    final = out / spec["name"]
    trained.save_inference_model(final)  # what SAELens's LanguageModelSAETrainingRunner writes at the end
    records = [describe(spec["name"], final, x, out)]
    if spec.get("checkpoint"):
        mid = max(checkpoints.iterdir(), key=lambda p: int(p.name))  # the latest mid-run checkpoint
        records.append(describe(f"{spec['name']}-checkpoint", mid, x, out))
    return records


def describe(name: str, folder: Path, x: torch.Tensor, out: Path) -> dict[str, Any]:
    """Load ``folder`` with SAELens, save its outputs on ``x``, and say what SAELens saw.

    A training-only architecture (a batchtopk checkpoint) has no inference class: SAELens's own route is to load
    it as a TrainingSAE and save its inference model (a JumpReLU), which is what is loaded here.
    """
    arch = json.loads((folder / "cfg.json").read_text())["architecture"]
    if arch in SAE_TRAINING_ONLY:
        TrainingSAE.load_from_disk(folder).save_inference_model(out / f"{name}-inference")
        sae = SAE.load_from_disk(out / f"{name}-inference")
    else:
        sae = SAE.load_from_disk(folder)
    scaler = folder / "activation_scaler.json"
    scale = json.loads(scaler.read_text()).get("scaling_factor") if scaler.is_file() else None
    save_file(outputs(sae, x, scale), str(out / f"{name}.safetensors"))
    return {
        "name": name,
        "folder": str(folder),
        "class": type(sae).__name__,
        "architecture": sae.cfg.architecture(),
        "normalize_activations": sae.cfg.normalize_activations,
        "scaling_factor": scale,
    }


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    torch.set_num_threads(1)
    x = load_file(job["x"])["x"]
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    records = [describe(item["name"], Path(item["dir"]), x, out) for item in job.get("load", [])]
    for item in job.get("pretrained", []):  # a Hub repo as a release name, read from HF_HUB_CACHE offline
        sae = SAE.from_pretrained(item["release"], item["sae_id"])
        save_file(outputs(sae, x), str(out / f"{item['name']}.safetensors"))
        records.append(
            {"name": item["name"], "class": type(sae).__name__, "hook_name": sae.cfg.metadata.hook_name}
        )
    for spec in job.get("train", []):
        records += train(spec, x, out)
    print(json.dumps({"sae_lens": sae_lens.__version__, "torch": torch.__version__, "records": records}))


if __name__ == "__main__":
    main()
