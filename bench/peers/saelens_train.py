"""Train a SAELens SAE with SAELens's own SAETrainer on the bench's activation file; print one JSON result line.

Runs inside .bench/saelens (``python -m bench.peers.saelens_train``). The spec (architecture, d_sae, k, batch,
steps, warm-up steps, lr, l1 coefficient, seed) comes from the orchestrator as JSON so both sides train alike.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import sae_lens
import torch
from sae_lens.config import SAETrainerConfig
from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig
from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
from sae_lens.training.sae_trainer import SAETrainer

from bench.peers.common import TimedBatches, explained_variance, load_matrix


def build_sae(spec: dict[str, Any], d_in: int) -> torch.nn.Module:
    """SAELens's ``standard`` (ReLU + L1 scaled by decoder norm), ``topk`` or ``batchtopk`` training SAE, its
    defaults otherwise; ``use_sparse_activations`` (TopK family) when the spec asks for it (SAELens's documented
    speed switch for float32 without autocast)."""
    common = {"d_in": d_in, "d_sae": spec["d_sae"], "dtype": "float32", "device": "cpu"}
    sparse = {"use_sparse_activations": bool(spec.get("saelens_sparse_activations", False))}
    if spec["architecture"] == "relu":
        return StandardTrainingSAE(StandardTrainingSAEConfig(l1_coefficient=spec["l1_coefficient"], **common))
    if spec["architecture"] == "topk":
        return TopKTrainingSAE(TopKTrainingSAEConfig(k=spec["k"], **common, **sparse))
    if spec["architecture"] == "batchtopk":
        return BatchTopKTrainingSAE(BatchTopKTrainingSAEConfig(k=spec["k"], **common, **sparse))
    raise ValueError(f"architecture: {spec['architecture']!r} is not benchmarked against SAELens")


@torch.no_grad()
def evaluate(sae: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """(explained variance, mean L0) of ``sae`` on ``x``."""
    sae.eval()
    feats = sae.encode(x)
    recon = sae.decode(feats)
    return explained_variance(x, recon), float((feats > 0).sum(-1).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--eval", type=Path, help="held-out array: EV and L0 in the result line")
    parser.add_argument(
        "--save",
        type=Path,
        help="write the trained SAE here in SAELens's inference layout (save_inference_model)",
    )
    parser.add_argument(
        "--spec", required=True, help="JSON: architecture, d_sae, k, batch, steps, warmup, ..."
    )
    parser.add_argument("--b-dec", type=Path, help="[d_in] .npy: start b_dec here (the other side's init)")
    args = parser.parse_args()
    spec = json.loads(args.spec)
    if spec.get("max_grad_norm", 1.0) != 1.0:
        raise SystemExit(
            f"--spec: max_grad_norm {spec['max_grad_norm']}: SAELens's SAETrainer always clips the gradient norm at "
            "1.0 (hard-coded in _train_step)"
        )
    torch.manual_seed(spec["seed"])
    train = load_matrix(args.train)
    start = time.perf_counter()
    sae = build_sae(spec, train.shape[1])
    if args.b_dec is not None:
        with torch.no_grad():
            sae.b_dec.copy_(load_matrix(args.b_dec))
    batch, total = spec["batch"], spec["warmup"] + spec["steps"]
    batches = TimedBatches(train, batch, spec["warmup"])
    cfg = SAETrainerConfig(
        total_training_samples=total * batch,
        train_batch_size_samples=batch,
        lr=spec["lr"],
        lr_end=spec["lr"],  # constant, like ours; only LanguageModelSAERunnerConfig fills this in
        adam_beta1=spec.get("adam_betas", (0.9, 0.999))[0],
        adam_beta2=spec.get("adam_betas", (0.9, 0.999))[1],
        dead_feature_window=spec.get("dead_window_steps", 1000),
        device="cpu",
    )
    trainer = SAETrainer(cfg=cfg, sae=sae, data_provider=batches)
    trainer.fit()
    tokens_per_s = batches.tokens_per_s()
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {
        "tokens_per_s": tokens_per_s,
        "seconds": seconds,
        "steps_run": batches.requests,
        "sae_lens": sae_lens.__version__,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    if args.eval is not None:
        result["ev"], result["l0"] = evaluate(trainer.sae, load_matrix(args.eval))
    if args.save is not None:
        trainer.sae.save_inference_model(args.save)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
