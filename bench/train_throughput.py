"""Training throughput: our SAETrainer vs SAELens's SAETrainer on the same activations, one JSON line per config.

CPU mode (default): real SmolLM2-135M activations (layer 15 resid_pre over TinyStories, collected once by our own
collector into bench/out/data/, BOS and massive-norm positions dropped as our trainer does), scaled to mean norm
sqrt(d_in), shuffled once and written to bench/out/train/{train,eval}.npy. Both trainers read those arrays through
the same in-order batch iterator (identical batches, identical order), with input normalisation off on both sides
(the data is already scaled), the same d_sae, k, batch, steps, lr, L1 coefficient and float32, on this CPU; SAELens
runs in its own venv (.bench/saelens). The first ``warmup`` steps are not timed. EV and L0 are measured by the same
function on the same held-out tokens.

GPU mode (``--device cuda``; ``--synthetic`` runs it on any device): self-contained (synthetic activations, d_in 768, no model, no peers); our trainer
only; SAE-only tokens/s for dense (relu) d_sae 24,576 and TopK k=32 d_sae 24,576 at batch 4096, fp32/TF32 and bf16
autocast.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from bench.peers.common import TimedBatches, explained_variance, load_matrix, machine
from bench.records import emit
from bench.vs_saelens import DATA_HOOK, OUT, REPO, PeerSpec, our_sae, our_train_config, run_saelens_train

DATA_TOKENS = 51_200
EVAL_TOKENS = 4096

log = logging.getLogger("bench.train")


@dataclass(frozen=True)
class Spec(PeerSpec):
    """One benchmark configuration, handed verbatim to both trainers; its ``steps`` are timed, after ``warmup``."""

    warmup: int = 2
    lr: float = 1e-3


CPU_SPECS = {
    "relu-6144": Spec("relu-6144", "relu", 6144, None, batch=4096, steps=20),
    "topk-24576": Spec("topk-24576", "topk", 24576, 32, batch=1024, steps=20),
}
GPU_SPECS = {
    "relu-24576": Spec("relu-24576", "relu", 24576, None, batch=4096, steps=200, warmup=20),
    "topk-24576": Spec("topk-24576", "topk", 24576, 32, batch=4096, steps=200, warmup=20),
}


# --------------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------------


def default_corpus() -> Path:
    shared = Path(os.environ.get("SAELAB_SHARED_DIR", REPO.parent / "shared"))
    return shared / "data" / "tinystories"


def collect_smollm2(corpus: Path, n_tokens: int, autocast_bf16: bool = False) -> Path:
    """SmolLM2-135M layer-15 activations over ``corpus`` via our collector (cached; resumes if interrupted);
    ``autocast_bf16``: the LM forward under bfloat16 autocast (~1.6x faster on this CPU, its own cache folder)."""
    from services.collector.collect import collect
    from shared.config import CollectConfig
    from shared.lm import packaged_smollm2

    out = OUT / "data" / f"smollm2-l15-{n_tokens}{'-bf16' if autocast_bf16 else ''}"
    cfg = CollectConfig(
        model=str(packaged_smollm2()),
        hook=DATA_HOOK,
        corpus=str(corpus),
        n_tokens=n_tokens,
        context_length=128,
        device="cpu",
        output=str(out),
        autocast_bf16=autocast_bf16,
    )
    log.info("collecting %d SmolLM2 tokens into %s (once)", n_tokens, out)
    return collect(cfg)


def training_arrays(corpus: Path) -> tuple[Path, Path]:
    """bench/out/train/{train,eval}.npy: kept tokens, scaled to mean norm sqrt(d_in), shuffled (seed 0)."""
    train_path, eval_path = OUT / "train" / "train.npy", OUT / "train" / "eval.npy"
    if train_path.is_file() and eval_path.is_file():
        return train_path, eval_path
    from services.trainer.data import ActivationDataset, split_segments
    from shared.shards import ActivationSet

    aset = ActivationSet.open(collect_smollm2(corpus, DATA_TOKENS), require_complete=True)
    segments, _ = split_segments(aset, 0.0)
    data = ActivationDataset(aset, segments)  # the trainer's defaults: BOS and norm > 10x median dropped
    x = data.kept_tokens(segments).float()
    x *= math.sqrt(x.shape[1]) / float(x.norm(dim=1).mean())
    x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))]
    train_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(eval_path, x[:EVAL_TOKENS].numpy())
    np.save(train_path, x[EVAL_TOKENS:].numpy())
    log.info(
        "wrote %d training and %d held-out tokens (d_in %d)", len(x) - EVAL_TOKENS, EVAL_TOKENS, x.shape[1]
    )
    return train_path, eval_path


# --------------------------------------------------------------------------------------------------------------
# Our side
# --------------------------------------------------------------------------------------------------------------


def train_ours(spec: Spec, train: torch.Tensor, held: torch.Tensor, device: str, bf16: bool = False) -> dict:
    """Our SAETrainer (services.trainer.train) on ``train``; tokens/s after warm-up, EV and L0 on ``held``."""
    from services.trainer.train import SAETrainer

    torch.manual_seed(spec.seed)
    cfg = our_train_config(spec, device="cuda" if device.startswith("cuda") else "cpu", autocast_bf16=bf16)
    sae = our_sae(spec, train.shape[1])
    batches = TimedBatches(train, spec.batch, spec.warmup, device)
    trainer = SAETrainer(sae, cfg, batches, device=device)
    trainer.initialise(train[:16_384].to(device))
    start = time.perf_counter()
    trainer.fit()
    tokens_per_s = batches.tokens_per_s()
    seconds = time.perf_counter() - start
    ev, l0 = evaluate_ours(trainer.sae, held.to(device))
    return {"tokens_per_s": tokens_per_s, "seconds": seconds, "ev": ev, "l0": l0}


@torch.no_grad()
def evaluate_ours(sae: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
    sae.eval()
    feats = sae.encode(x)
    return explained_variance(x, sae.decode(feats)), float((feats > 0).sum(-1).float().mean())


# --------------------------------------------------------------------------------------------------------------
# Modes
# --------------------------------------------------------------------------------------------------------------


def best_of(runs: list[dict]) -> dict:
    """The run with the highest tokens/s (the least disturbed by other load); every run's figure kept too."""
    best = max(runs, key=lambda r: r["tokens_per_s"])
    return {**best, "samples": [round(r["tokens_per_s"], 1) for r in runs]}


def shape_fields(spec: Spec, d_in: int) -> dict:
    """The run's schedule and SAE shape, as every mode's row reports them."""
    return {
        "steps": spec.steps,
        "warmup_steps": spec.warmup,
        "batch": spec.batch,
        "d_in": d_in,
        "d_sae": spec.d_sae,
        "k": spec.k,
    }


def run_cpu(specs: list[Spec], corpus: Path, out: Path | None, repeats: int) -> None:
    """Each config: ours and SAELens alternately ``repeats`` times each; best tokens/s of each side reported."""
    train_path, eval_path = training_arrays(corpus)
    train, held = load_matrix(train_path), load_matrix(eval_path)
    for spec in specs:
        ours_runs, their_runs = [], []
        for _ in range(repeats):
            ours_runs.append(train_ours(spec, train, held, "cpu"))
            their_runs.append(run_saelens_train(spec, train_path, eval_path))  # SAELens in its venv
        ours, theirs = best_of(ours_runs), best_of(their_runs)
        emit(
            {
                "config": spec.config,
                "ours_tokens_per_s": round(ours["tokens_per_s"], 1),
                "saelens_tokens_per_s": round(theirs["tokens_per_s"], 1),
                "ratio": round(ours["tokens_per_s"] / theirs["tokens_per_s"], 3),
                "ours_samples": ours["samples"],
                "saelens_samples": theirs["samples"],
                "ours_ev": round(ours["ev"], 4),
                "saelens_ev": round(theirs["ev"], 4),
                "ours_l0": round(ours["l0"], 1),
                "saelens_l0": round(theirs["l0"], 1),
                **shape_fields(spec, train.shape[1]),
                "lr": spec.lr,
                "l1_coefficient": spec.l1_coefficient if spec.architecture == "relu" else None,
                "dtype": "float32",
                "data": f"SmolLM2-135M {DATA_HOOK}, TinyStories, {len(train)} train / {len(held)} held-out tokens",
                "sae_lens": theirs["sae_lens"],
                "machine": machine(),
            },
            out,
        )


def run_synthetic(specs: list[Spec], device: str, out: Path | None) -> None:
    """Our trainer alone on synthetic activations (d_in 768), fp32/TF32 and bf16 autocast: the GPU card's numbers."""
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch sees no CUDA device here")
        torch.backends.cuda.matmul.allow_tf32 = True
    d_in = 768
    gen = torch.Generator(device=device).manual_seed(0)
    mix = torch.randn(d_in, d_in, device=device, generator=gen) / math.sqrt(d_in)
    data = (
        torch.randn(65_536 + EVAL_TOKENS, d_in, device=device, generator=gen) @ mix
    )  # correlated, not isotropic
    data *= math.sqrt(d_in) / data.norm(dim=1).mean()
    train, held = data[EVAL_TOKENS:], data[:EVAL_TOKENS]
    for spec in specs:
        for bf16 in (False, True) if device.startswith("cuda") else (False,):
            ours = train_ours(spec, train, held, device, bf16=bf16)
            emit(
                {
                    "config": spec.config,
                    "device": device,
                    "precision": "bf16-autocast"
                    if bf16
                    else ("fp32-tf32" if device.startswith("cuda") else "fp32"),
                    "ours_tokens_per_s": round(ours["tokens_per_s"], 1),
                    "ours_ev": round(ours["ev"], 4),
                    "ours_l0": round(ours["l0"], 1),
                    **shape_fields(spec, d_in),
                    "data": "synthetic correlated Gaussian, mean norm sqrt(d_in)",
                    "machine": machine(),
                },
                out,
            )


def pick_specs(table: dict[str, Spec], names: str | None, steps: int | None, batch: int | None) -> list[Spec]:
    chosen = list(table) if not names else names.split(",")
    unknown = [n for n in chosen if n not in table]
    if unknown:
        raise SystemExit(f"--configs: unknown {', '.join(unknown)} (choose from {', '.join(table)})")
    specs = [table[n] for n in chosen]
    if steps is not None:
        specs = [replace(s, steps=steps) for s in specs]
    if batch is not None:
        specs = [replace(s, batch=batch) for s in specs]
    return specs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu (vs SAELens) or cuda / cuda:N (ours only)")
    parser.add_argument("--configs", help="comma-separated config names (default: all of the mode's)")
    parser.add_argument("--steps", type=int, help="override the timed steps of every config")
    parser.add_argument("--batch", type=int, help="override the batch size of every config")
    parser.add_argument("--repeats", type=int, default=1, help="CPU mode: alternate runs per side, best kept")
    parser.add_argument("--synthetic", action="store_true", help="GPU-card mode on any device (ours only)")
    parser.add_argument("--corpus", type=Path, default=default_corpus(), help="TinyStories text (CPU mode)")
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    if args.device.startswith("cuda") or args.synthetic:
        run_synthetic(pick_specs(GPU_SPECS, args.configs, args.steps, args.batch), args.device, args.out)
    else:
        run_cpu(
            pick_specs(CPU_SPECS, args.configs, args.steps, args.batch), args.corpus, args.out, args.repeats
        )


if __name__ == "__main__":
    main()
