"""Sweep throughput: a 4-SAE sweep (one batch stream) vs the same 4 configs trained as 4 separate runs.

Data: real SmolLM2-135M activations (layer 15 resid_pre over the local TinyStories copy), collected once by our
own collector into bench/out/data/ (shared with bench/train_throughput.py). Each timed call is the whole thing a
user waits for, data loading included: ``train(cfg)`` from an empty run directory (open the shards, estimate the
median norm, sample for initialisation, stream and shuffle batches, train, checkpoint, export), four times, vs one
``train_sweep`` of the same four configs. Sweep and separate runs alternate within each repeat (same window, same
machine load); the best of each over the repeats is reported, as wall time and as this process's CPU time (steadier
on a shared machine). A data-only pass (open, initialise, the same batches; no SAE) shows what one run spends
outside training. One JSON line per repeat and a summary line.

    .venv/bin/python -m bench.sweep_throughput [--tokens 20480] [--d-sae 1024] [--steps 200] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from bench.peers.common import machine
from bench.train_throughput import collect_smollm2

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "sweep"
CORPUS = REPO.parent / "shared" / "data" / "tinystories"

log = logging.getLogger("bench.sweep")


def sweep_config(activations: Path, d_sae: int, steps: int, batch: int) -> Any:
    from shared.sweep_config import SweepConfig

    return SweepConfig(
        name="bench",
        activations=str(activations),
        output=str(OUT / "sweep"),
        common={
            "d_sae": d_sae,
            "batch_size": batch,
            "n_steps": steps,
            "lr": 4e-4,
            "log_every": 50,
            "device": "cpu",
            "checkpoint_every": 0,
        },  # fmt: skip
        saes=[
            {"name": "relu", "architecture": "relu", "l1_coefficient": 2.0},
            {"name": "topk", "architecture": "topk", "k": 32},
            {"name": "batchtopk", "architecture": "batchtopk", "k": 32},
            {"name": "jumprelu", "architecture": "jumprelu", "l0_coefficient": 0.5},
        ],
    )


def timed_separate(sweep: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for the members trained one after the other."""
    from services.trainer.run import train

    t, c = time.perf_counter(), time.process_time()
    for name, cfg in sweep.members():
        out = OUT / "separate" / name
        train(cfg.model_copy(update={"output": str(out)}))
    return time.perf_counter() - t, time.process_time() - c


def timed_sweep(sweep: Any) -> tuple[float, float, dict[str, Any]]:
    from services.trainer.sweep import train_sweep

    t, c = time.perf_counter(), time.process_time()
    result = train_sweep(sweep)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    parts = {"setup_s": result.setup_s, "data_s": result.data_s, "checkpoint_export_s": result.checkpoint_s}
    parts |= {f"train_{name}_s": s for name, s in result.member_s.items()}
    return wall, cpu, {k: round(v, 3) for k, v in parts.items()}


def timed_data_only(sweep: Any) -> float:
    """Open the set, initialise (sample, input scale, geometric median) and draw every batch one run draws, with no
    SAE: the fixed and data cost one run pays and a sweep pays once."""
    from services.trainer.run import INIT_SAMPLE_TOKENS, training_data
    from services.trainer.train import estimate_input_scale, geometric_median
    from shared.shards import ActivationSet

    _, cfg = sweep.members()[0]
    t = time.perf_counter()
    data = training_data(ActivationSet.open(cfg.activations, require_complete=True), cfg)
    sample = data.sample(INIT_SAMPLE_TOKENS, cfg.seed)
    geometric_median(sample * estimate_input_scale(sample))
    batches = data.batches(cfg.batch_size, cfg.seed, cfg.shuffle_buffer_tokens)
    for _ in range(cfg.n_steps):
        next(batches)
    return time.perf_counter() - t


def clean() -> None:
    shutil.rmtree(OUT / "sweep", ignore_errors=True)
    shutil.rmtree(OUT / "separate", ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", type=int, default=20_480, help="SmolLM2 tokens to collect (once, cached)")
    p.add_argument("--d-sae", type=int, default=1024)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    args = p.parse_args()

    def emit(row: dict[str, Any]) -> None:
        line = json.dumps(row)
        print(line, flush=True)
        if args.out is not None:
            with args.out.open("a") as f:
                f.write(line + "\n")

    logging.basicConfig(level=logging.WARNING)
    activations = collect_smollm2(CORPUS, args.tokens)
    sweep = sweep_config(activations, args.d_sae, args.steps, args.batch)
    best_sweep, best_sep, best_parts, data_only = float("inf"), float("inf"), {}, float("inf")
    best_sweep_cpu, best_sep_cpu = float("inf"), float("inf")
    for repeat in range(args.repeats):
        clean()
        first_sweep = repeat % 2 == 0  # alternate the order: neither side always runs on a warmer machine
        if first_sweep:
            sweep_s, sweep_cpu, parts = timed_sweep(sweep)
            sep_s, sep_cpu = timed_separate(sweep)
        else:
            sep_s, sep_cpu = timed_separate(sweep)
            sweep_s, sweep_cpu, parts = timed_sweep(sweep)
        d = timed_data_only(sweep)
        emit({"repeat": repeat, "order": "sweep first" if first_sweep else "separate first",
              "sweep_s": round(sweep_s, 2), "separate_s": round(sep_s, 2), "ratio": round(sweep_s / sep_s, 3),
              "sweep_cpu_s": round(sweep_cpu, 2), "separate_cpu_s": round(sep_cpu, 2),
              "cpu_ratio": round(sweep_cpu / sep_cpu, 3),
              "data_init_one_run_s": round(d, 2), "sweep_parts": parts,
              "loadavg_1m": round(os.getloadavg()[0], 2)})  # fmt: skip
        if sweep_s < best_sweep:
            best_sweep, best_parts = sweep_s, parts
        best_sep, data_only = min(best_sep, sep_s), min(data_only, d)
        best_sweep_cpu, best_sep_cpu = min(best_sweep_cpu, sweep_cpu), min(best_sep_cpu, sep_cpu)
    clean()
    summary = {
        "bench": "sweep_throughput",
        "saes": [f"{n}:{c.architecture}" for n, c in sweep.members()],
        "d_sae": args.d_sae, "steps": args.steps, "batch": args.batch, "tokens": args.tokens,
        "best_sweep_s": round(best_sweep, 2), "best_separate_s": round(best_sep, 2),
        "ratio": round(best_sweep / best_sep, 3), "best_sweep_cpu_s": round(best_sweep_cpu, 2),
        "best_separate_cpu_s": round(best_sep_cpu, 2), "cpu_ratio": round(best_sweep_cpu / best_sep_cpu, 3),
        "data_init_one_run_s": round(data_only, 2),
        "sweep_parts": best_parts, "torch_threads": torch.get_num_threads(), "machine": machine(),
    }  # fmt: skip
    emit(summary)


if __name__ == "__main__":
    main()
