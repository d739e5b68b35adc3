"""Sweep throughput: a 4-SAE sweep (one batch stream) vs the same 4 configs trained as 4 separate runs.

Data: real SmolLM2-135M activations (layer 15 resid_pre over the local TinyStories copy), collected once by our
own collector into bench/out/data/ (shared with bench/train_throughput.py). Each timed call is the whole thing a
user waits for, data loading included: ``train(cfg)`` from an empty run directory (open the shards, estimate the
median norm, sample for initialisation, stream and shuffle batches, train, checkpoint, export), four times, vs one
``train_sweep`` of the same four configs. Sweep and separate runs alternate within each repeat (same window, same
machine load); the best of each over the repeats is reported, as wall time and as this process's CPU time (steadier
on a shared machine). A data-only pass (open, initialise, the same batches; no SAE) shows what one run spends
outside training. One JSON line per repeat and a summary line.

With ``--mode cli`` (the default) both sides are what a user runs: 4 ``saelab train --config <member>.yaml``
processes one after the other vs one ``saelab sweep --config sweep.yaml`` process (configs written with
``dump_config`` from the same SweepConfig, so the members are exactly the sweep's), each timed whole: Python
start, imports, config validation, training, checkpoint and export; CPU time is the children's. ``--mode
inprocess`` times ``train(cfg)`` x 4 vs ``train_sweep`` in this process (no start-up costs; the sweep's own
breakdown of setup / data / per-member steps / checkpoints comes from it). ``--mode both`` runs the two.
``--parallel-members`` sets the sweep's ``parallel_members`` (default ``auto``, what a user gets; ``1`` = members one
after another, each bit-identical to its own run at the same thread count, for a comparison in the same window).

    .venv/bin/python -m bench.sweep_throughput [--tokens 20480] [--d-sae 1024] [--steps 200] [--repeats 2]
        [--parallel-members auto|1|N]
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import torch

from bench.peers.common import machine
from bench.records import emit
from bench.train_throughput import collect_smollm2, default_corpus

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "sweep"


log = logging.getLogger("bench.sweep")


def sweep_config(
    activations: Path, d_sae: int, steps: int, batch: int, parallel: Literal["auto"] | int = "auto"
) -> Any:
    from shared.sweep_config import SweepConfig

    return SweepConfig(
        name="bench",
        parallel_members=parallel,
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
    parts |= {"steps_s": result.steps_s} | {f"train_{name}_s": s for name, s in result.member_s.items()}
    said = {k: round(v, 3) for k, v in parts.items()}
    return wall, cpu, said | {"workers": result.workers, "threads_per_member": result.threads_per_member}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli(*args: str) -> tuple[float, float, str]:
    """(wall s, CPU s, stdout) of one ``saelab <args>`` process (``python -m cli.main``, this checkout's code)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t, c = time.perf_counter(), _children_cpu_s()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall, cpu = time.perf_counter() - t, _children_cpu_s() - c
    if done.returncode != 0:
        raise SystemExit(f"bench: saelab {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, cpu, done.stdout


def timed_separate_cli(sweep: Any) -> tuple[float, float]:
    """4 ``saelab train --config`` processes, one per member config (written from the sweep's own members)."""
    from shared.config import dump_config

    wall = cpu = 0.0
    (OUT / "configs").mkdir(parents=True, exist_ok=True)
    for name, cfg in sweep.members():
        path = OUT / "configs" / f"{name}.yaml"
        dump_config(cfg.model_copy(update={"output": str(OUT / "separate" / name)}), path)
        w, c, _ = run_cli("train", "--config", str(path))
        wall, cpu = wall + w, cpu + c
    return wall, cpu


def timed_sweep_cli(sweep: Any) -> tuple[float, float, str]:
    """One ``saelab sweep --config`` process; its last summary line says where the training time went."""
    from shared.config import dump_config

    path = OUT / "configs" / "sweep.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    dump_config(sweep, path)
    wall, cpu, stdout = run_cli("sweep", "--config", str(path))
    summary = next((line for line in stdout.splitlines() if line.startswith("trained in")), "")
    return wall, cpu, summary


def startup_s() -> float:
    """Wall seconds of a process that only imports the trainer (what each ``saelab train`` pays before work)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cli.main, services.trainer.run"], cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)  # fmt: skip
    return time.perf_counter() - t


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
    p.add_argument("--mode", choices=("cli", "inprocess", "both"), default="cli",
                   help="cli: saelab processes as a user runs them (default); inprocess: train()/train_sweep()")  # fmt: skip
    p.add_argument("--parallel-members", type=_parallel, default="auto",
                   help="the sweep's parallel_members (default auto, the config's default; 1 = one after another)")  # fmt: skip
    p.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    args = p.parse_args()

    report = functools.partial(emit, out=args.out)

    logging.basicConfig(level=logging.WARNING)
    activations = collect_smollm2(default_corpus(), args.tokens)
    sweep = sweep_config(activations, args.d_sae, args.steps, args.batch, args.parallel_members)
    modes = ("cli", "inprocess") if args.mode == "both" else (args.mode,)
    for mode in modes:
        run_mode(mode, sweep, args, report)


def _parallel(value: str) -> Literal["auto"] | int:
    return "auto" if value == "auto" else int(value)


def run_mode(mode: str, sweep: Any, args: argparse.Namespace, emit: Any) -> None:
    """Interleaved repeats of [sweep, 4 separate runs] (order reversed every other repeat), then a summary."""
    rows: list[dict[str, Any]] = []
    for repeat in range(args.repeats):
        clean()
        load = os.getloadavg()[0]
        first_sweep = repeat % 2 == 0  # alternate the order: neither side always runs on a warmer machine
        row: dict[str, Any] = {
            "mode": mode,
            "repeat": repeat,
            "order": "sweep first" if first_sweep else "separate first",
        }
        for side in ("sweep", "separate") if first_sweep else ("separate", "sweep"):
            if side == "sweep" and mode == "cli":
                wall, cpu, said = timed_sweep_cli(sweep)
                row["sweep_summary"] = said
            elif side == "sweep":
                wall, cpu, parts = timed_sweep(sweep)
                row["sweep_parts"] = parts
            else:
                wall, cpu = (timed_separate_cli if mode == "cli" else timed_separate)(sweep)
            row[f"{side}_s"], row[f"{side}_cpu_s"] = round(wall, 2), round(cpu, 2)
        row["ratio"] = round(row["sweep_s"] / row["separate_s"], 3)
        row["cpu_ratio"] = round(row["sweep_cpu_s"] / row["separate_cpu_s"], 3)
        if mode == "cli":
            row["startup_one_process_s"] = round(startup_s(), 2)
        row["data_init_one_run_s"] = round(timed_data_only(sweep), 2)
        row["loadavg_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
        emit(row)
        print(f"bench: {mode} repeat {repeat}: sweep {row['sweep_s']} s / separate {row['separate_s']} s = ratio "
              f"{row['ratio']} (CPU {row['cpu_ratio']}), load {row['loadavg_1m']}", file=sys.stderr)  # fmt: skip
        rows.append(row)
    clean()
    best_sweep = min(rows, key=lambda r: r["sweep_s"])
    best_sep = min(r["separate_s"] for r in rows)
    summary: dict[str, Any] = {
        "bench": "sweep_throughput", "mode": mode,
        "saes": [f"{n}:{c.architecture}" for n, c in sweep.members()],
        "d_sae": args.d_sae, "steps": args.steps, "batch": args.batch, "tokens": args.tokens,
        "parallel_members": args.parallel_members,
        "best_sweep_s": best_sweep["sweep_s"], "best_separate_s": best_sep,
        "ratio": round(best_sweep["sweep_s"] / best_sep, 3),
        "median_repeat_ratio": round(sorted(r["ratio"] for r in rows)[len(rows) // 2], 3),
        "best_sweep_cpu_s": min(r["sweep_cpu_s"] for r in rows),
        "best_separate_cpu_s": min(r["separate_cpu_s"] for r in rows),
        "cpu_ratio": round(min(r["sweep_cpu_s"] for r in rows) / min(r["separate_cpu_s"] for r in rows), 3),
        "data_init_one_run_s": min(r["data_init_one_run_s"] for r in rows),
        "sweep_parts": best_sweep.get("sweep_parts") or best_sweep.get("sweep_summary"),
        "loadavg_1m": [rows[0]["loadavg_1m"][0], rows[-1]["loadavg_1m"][1]],
        "torch_threads": torch.get_num_threads(), "machine": machine(),
    }  # fmt: skip
    if mode == "cli":
        summary["startup_one_process_s"] = min(r["startup_one_process_s"] for r in rows)
    emit(summary)
    print(f"bench: {mode}: sweep / separate = {summary['ratio']} (best of {len(rows)}; median repeat ratio "
          f"{summary['median_repeat_ratio']}; CPU {summary['cpu_ratio']}; goal <= 0.8), load {summary['loadavg_1m']}",
          file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
