"""SAE quality, side by side with SAELens: same SmolLM2 activations, same token budget, our evaluation code on both.

Data: SmolLM2-135M (the packaged GGUF) layer-15 resid_pre over TinyStories, collected once by our collector into
bench/out/data/ (context 128). The last ``eval_fraction`` of its contexts are held out. The training tokens (BOS and
massive-norm positions dropped, as our trainer does) are scaled to mean norm sqrt(d_in), shuffled once (seed 0) and
written to bench/out/quality/<n>/train.npy; both trainers read that array through the same in-order batch iterator
(identical batches in identical order, ``budget`` tokens each), float32, input normalisation off on both sides.

Trainers: ours (services.trainer.train.SAETrainer) in this process; SAELens's own SAETrainer in its venv
(.bench/saelens, ``bench.peers.saelens_train``), which saves its trained SAE in SAELens's inference layout. Each
architecture both have: TopK and BatchTopK at the same k; ReLU / SAELens ``standard`` at a matched L0, the L1
coefficient of each side bisected (log scale) until its held-out L0 is within ``l0_tolerance`` of the target.

Evaluation (both sides by OUR code, on the same held-out tokens): the SAELens SAE is read with our SAELens reader
(``shared.sae.saelens.read_saelens``), the training scale is folded into both SAEs' weights (so they take raw
activations), then ``services.trainer.evaluate.reconstruction_metrics`` (EV, L0, dead and dense fractions over the
held-out kept tokens) and ``ce_metrics`` (CE loss recovered through the LM, the SAE spliced in at the hook) run on
each. Wall time: construction + initialisation + training of each side, in its own process, on this machine.

    python -m bench.quality            # the full measurement (>= 1M training tokens, >= 50k held out)
    python -m bench.quality --quick    # smoke version: a few thousand tokens, minutes on a loaded laptop
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.peers.common import TimedBatches, load_matrix, machine
from bench.records import emit
from bench.vs_saelens import DATA_HOOK, OUT, our_sae, our_train_config, run_saelens_train
from bench.vs_saelens import PeerSpec as Spec  # one training, handed verbatim to both trainers

INIT_SAMPLE = 16_384
"""Training tokens our trainer's ``initialise`` takes b_dec's geometric median of (SAELens gets the same b_dec)."""
CONTEXT = 128

log = logging.getLogger("bench.quality")


@dataclass(frozen=True)
class Plan:
    """How big a measurement is."""

    collect_tokens: int
    """Tokens collected (training + held out)."""
    eval_fraction: float
    """Fraction of the contexts held out."""
    budget: int
    """Training tokens each SAE sees (batches wrap around the training array when it is shorter)."""
    batch: int
    d_sae: int
    k: int
    """k of TopK and BatchTopK, and the target L0 of the ReLU pair."""
    lr: float
    ce_contexts: int
    """Held-out contexts the CE loss recovered is measured on."""
    bisect_steps: int
    """At most this many trainings per side to match the ReLU L0."""
    l0_tolerance: float = 0.1
    """Relative L0 distance to the target at which the bisection stops."""
    relu_l1: tuple[float, ...] = (5.0,)
    """The ReLU search's first round of L1 coefficients (both sides; several train concurrently)."""
    saelens_sparse: bool = False
    """SAELens TopK family trains with ``use_sparse_activations``."""
    collect_bf16: bool = False
    """Collect under bfloat16 autocast (the LM forward ~1.6x faster on this CPU; the same array for both sides)."""


FULL = Plan(196_608, 0.27, 1_000_000, 4096, 512, 32, 4e-4, 32, 4, relu_l1=(3.0, 6.0, 12.0))
"""196,608 collected tokens (1,536 contexts; what this 2-core machine could collect in the time): 1,121 training
contexts (~142k kept tokens, read ~7 times for the 1M-token budget) and 415 held-out contexts (~52.7k kept
tokens). d_sae 512: what fitted 10 trainings of 1M tokens in an hour on the shared 2-core machine (bench/README.md)."""
QUICK = Plan(12_800, 0.2, 40_960, 512, 768, 16, 1e-3, 4, 5)


# --------------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Data:
    train_path: Path
    held_path: Path
    """The held-out kept tokens, scaled like the training array (for the peer's own EV, a cross-check only)."""
    scale: float
    """Training arrays = raw activations x ``scale``."""
    aset: Any
    held: list
    exclusion: Any
    n_train: int


def prepare_data(corpus: Path, plan: Plan, activations: Path | None = None, out_dir: Path = OUT) -> Data:
    """Collect (once) and split; write the scaled, shuffled training array; keep the held-out segments raw."""
    from services.trainer.data import ActivationDataset, split_segments
    from shared.shards import ActivationSet

    if activations is None:
        from bench.train_throughput import collect_smollm2

        activations = collect_smollm2(corpus, plan.collect_tokens, plan.collect_bf16)
    aset = ActivationSet.open(activations, require_complete=True)
    train_segs, held = split_segments(aset, plan.eval_fraction)
    data = ActivationDataset(aset, train_segs)  # the trainer's defaults: BOS and norm > 10x median dropped
    folder = out_dir / "quality" / f"{Path(activations).name}-{plan.eval_fraction}"
    train_path, held_path, meta_path = folder / "train.npy", folder / "held.npy", folder / "meta.json"
    if train_path.is_file() and held_path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return Data(train_path, held_path, meta["scale"], aset, held, data.exclusion, meta["n_train"])
    x = data.kept_tokens(train_segs).float()
    scale = math.sqrt(x.shape[1]) / float(x.norm(dim=1).mean())
    x = x * scale
    x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))]
    folder.mkdir(parents=True, exist_ok=True)
    np.save(train_path, x.numpy())
    np.save(held_path, (data.kept_tokens(held).float() * scale).numpy())
    meta_path.write_text(json.dumps({"scale": scale, "n_train": len(x)}))
    log.info("wrote %d training tokens (scale %.4f) to %s", len(x), scale, train_path)
    return Data(train_path, held_path, scale, aset, held, data.exclusion, len(x))


# --------------------------------------------------------------------------------------------------------------
# Training, each side
# --------------------------------------------------------------------------------------------------------------


def train_ours(spec: Spec, train: torch.Tensor, d_in: int) -> tuple[Any, float]:
    """Our SAETrainer on ``train`` (already scaled); (the SAE, wall seconds of construction + init + training)."""
    from services.trainer.train import SAETrainer

    start = time.perf_counter()
    torch.manual_seed(spec.seed)
    cfg = our_train_config(
        spec,
        adam_betas=spec.adam_betas,
        max_grad_norm=spec.max_grad_norm,
        dead_feature_threshold=spec.dead_window_steps * spec.batch,
        device="cpu",
        log_every=10**6,
        checkpoint_minutes=0,
    )
    sae = our_sae(spec, d_in)
    trainer = SAETrainer(sae, cfg, TimedBatches(train, spec.batch, spec.warmup), device="cpu")
    trainer.initialise(train[:INIT_SAMPLE])
    trainer.fit()
    return trainer.sae, time.perf_counter() - start


def train_saelens(
    spec: Spec, data: Data, save_dir: Path, b_dec: Path | None = None
) -> tuple[Any, float, dict]:
    """SAELens's SAETrainer in .bench/saelens (b_dec starting at ``b_dec``'s [d_in] array when given); its SAE read
    back by our SAELens reader, its seconds (construction + training, as ours), its record."""
    from shared.sae.saelens import read_saelens

    extra = ["--save", str(save_dir)] + (["--b-dec", str(b_dec)] if b_dec is not None else [])
    record = run_saelens_train(spec, data.train_path, data.held_path, *extra)
    sae = read_saelens(save_dir, hook_name=DATA_HOOK).sae
    return sae, record["seconds"], record


# --------------------------------------------------------------------------------------------------------------
# Evaluation: our code, both sides
# --------------------------------------------------------------------------------------------------------------


class Evaluator:
    """Our evaluation of any SAE trained on ``Data``'s scaled array, on its held-out contexts."""

    def __init__(self, data: Data, plan: Plan, with_ce: bool = True) -> None:
        self.data, self.plan = data, plan
        self.lock = threading.Lock()
        self.n_held = len(
            load_matrix(data.held_path)
        )  # every held-out kept token (no "fewer than asked" warning)
        self.held_raw = load_matrix(data.held_path) / data.scale  # the same tokens, raw (the SAEs take raw)
        self.lm = None
        if with_ce:
            from services.trainer.evaluate import _ce_contexts
            from shared.lm import load_lm

            meta = data.aset.meta
            self.lm = load_lm(meta.model, meta.gguf_file, device="cpu")
            self.ce_inputs = _ce_contexts(data.aset, data.held, data.exclusion, plan.ce_contexts)

    def __call__(self, sae: Any, with_ce: bool = True) -> dict[str, Any]:
        with self.lock:  # one at a time: CE splices each SAE into the one LM by a hook
            return self.evaluate(sae, with_ce)

    @torch.no_grad()
    def evaluate(self, sae: Any, with_ce: bool) -> dict[str, Any]:
        from services.trainer.evaluate import ce_metrics, reconstruction_metrics

        sae = sae.eval()
        sae.cfg.hook_name = DATA_HOOK
        device = torch.device("cpu")
        result = reconstruction_metrics(
            sae, self.data.aset, self.data.held, self.data.exclusion, self.n_held, device
        )
        result.pop("warnings", None)
        result.pop("n_tokens_requested", None)
        result.pop("density_histogram", None)
        if with_ce and self.lm is not None:
            ids, acts, keep = self.ce_inputs
            ce = ce_metrics(sae, self.lm, ids, acts, keep, 8, device)
            result |= {k: ce[k] for k in ("ce_loss_recovered", "ce_loss_clean", "ce_loss_sae", "ce_tokens")}
        return result


@torch.no_grad()
def batch_topk_reading(
    sae: Any, x: torch.Tensor, k: int, batch: int | None, seed: int = 0
) -> dict[str, float]:
    """EV and L0 of ``sae`` on ``x`` (raw held-out tokens) with its activations chosen as in BatchTopK training:
    the k x n largest positive pre-activations of each batch of n tokens (exactly L0 = k per batch), batches of
    ``batch`` tokens drawn in a fixed shuffled order (``seed``), like the training batches; ``batch`` None = one
    batch of every token, which is the inference function with one threshold set so that L0 = k exactly on
    ``x``. The same for any SAE whose training selection is a batch top-k of ReLU(pre_acts): ours, and SAELens's
    read back (its decoder-norm rescaling folded into the encoder on save)."""
    from shared.sae.batchtopk import batch_topk

    x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))]
    rss = active = 0.0
    for chunk in x.split(batch or len(x)):
        pre = sae.pre_acts(chunk)
        rows, cols = batch_topk(pre, k * len(chunk))
        f = torch.zeros_like(pre)
        f[rows, cols] = torch.relu(pre[rows, cols])
        rss += float((chunk.double() - sae.decode(f).double()).pow(2).sum())
        active += float((f != 0).sum())
    x64 = x.double()
    tss = float((x64 - x64.mean(0)).pow(2).sum())
    return {"explained_variance": 1.0 - rss / tss, "l0": active / len(x)}


def raw_input_sae(sae: Any, scale: float) -> Any:
    """``sae`` (trained on raw x ``scale``) made to take raw activations."""
    sae.fold_input_scale(scale)
    return sae


# --------------------------------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------------------------------


def train_side(
    side: str, spec: Spec, data: Data, train: torch.Tensor, workdir: Path
) -> tuple[Any, float, dict]:
    """``side``'s SAE (taking raw activations), its wall seconds, and the peer's own EV/L0 (SAELens only)."""
    peer: dict = {}
    if side == "ours":
        sae, seconds = train_ours(spec, train, train.shape[1])
    else:
        b_dec = workdir / "b_dec.npy"
        if not b_dec.is_file():  # our trainer's b_dec init, computed the same way from the same sample
            from services.trainer.train import geometric_median

            np.save(b_dec, geometric_median(train[:INIT_SAMPLE]).numpy())
        save = workdir / f"{spec.config}-{spec.l1_coefficient:g}"
        sae, seconds, record = train_saelens(spec, data, save, b_dec)
        peer = {"peer_own_ev": round(record["ev"], 4), "peer_own_l0": round(record["l0"], 2)}
    load = os.getloadavg()[0]
    peer["loadavg_1m_after"] = round(load, 2)
    log.info(
        "%s %s (l1 %g): %.1f s, 1-minute load average %.2f",
        side,
        spec.config,
        spec.l1_coefficient,
        seconds,
        load,
    )
    return raw_input_sae(sae, data.scale), seconds, peer


def matched_relu(
    side: str,
    base: Spec,
    target_l0: float,
    plan: Plan,
    data: Data,
    train: torch.Tensor,
    evaluate: Evaluator,
    workdir: Path,
    on_trial: Any = None,
) -> tuple[Any, float, dict, list[dict]]:
    """Search the L1 coefficient of ``side``'s ReLU SAE until its held-out L0 is within tolerance of ``target_l0``.
    The first round trains ``plan.relu_l1`` (one or several coefficients, concurrently); then one trial per round:
    x2 (then log-log extrapolation, at most x4) until the target is bracketed, then regula falsi on log L0
    against log coefficient (L0 falls roughly as a power of the coefficient), kept inside the middle 80 % of the
    bracket (log scale); at most ``plan.bisect_steps`` trials. Returns the closest SAE, its wall seconds, its
    record and every trial (coefficient, L0, EV, dead, dense, seconds); ``on_trial(side, trial)`` sees each."""
    trials: list[dict] = []
    best: tuple[float, Any, float, dict] | None = None

    def trial(coef: float) -> tuple[dict, Any, float, dict]:
        sae, seconds, peer = train_side(side, replace(base, l1_coefficient=coef), data, train, workdir)
        metrics = evaluate(sae, with_ce=False)
        record = {"l1_coefficient": round(coef, 4), "l0": round(metrics["l0"], 2)}
        record |= {"ev": round(metrics["explained_variance"], 4), "seconds": round(seconds, 1)}
        record |= {key: _round(metrics[key]) for key in ("dead_fraction", "dense_fraction")}
        log.info("%s relu l1 %.4g -> L0 %.1f (target %.1f)", side, coef, metrics["l0"], target_l0)
        if on_trial is not None:
            on_trial(side, record | {key: value for key, value in peer.items() if key.startswith("peer")})
        return record, sae, seconds, peer

    coefs = list(plan.relu_l1)
    while coefs and len(trials) < plan.bisect_steps:
        with ThreadPoolExecutor(max_workers=len(coefs)) as pool:
            done = list(pool.map(trial, coefs))
        for record, sae, seconds, peer in done:
            trials.append(record)
            miss = abs(record["l0"] - target_l0) / target_l0
            if best is None or miss < best[0]:
                best = (miss, sae, seconds, peer)
        assert best is not None
        if best[0] <= plan.l0_tolerance:
            break
        coefs = [search_step(trials, target_l0)]
    assert best is not None
    return best[1], best[2], best[3], trials


def search_step(trials: list[dict], target_l0: float) -> float:
    """The next coefficient after ``trials`` (none within tolerance): regula falsi between the closest trials on
    either side of the target when it is bracketed, else log-log extrapolation of the two trials nearest to it
    (x2 or /2 from a single trial)."""
    above = [(t["l1_coefficient"], t["l0"]) for t in trials if t["l0"] > target_l0]
    below = [(t["l1_coefficient"], t["l0"]) for t in trials if t["l0"] <= target_l0]
    if above and below:
        return next_coefficient(max(above), min(below), target_l0)
    side = sorted(above or below, key=lambda t: abs(math.log(max(t[1], 1e-3) / target_l0)))
    if len(side) == 1:
        coef = side[0][0]
        return coef * 2 if above else coef / 2
    nearest, second = side[0], side[1]
    return extrapolate_coefficient(second, nearest, target_l0)


def interpolated_ev(trials: list[dict], target_l0: float) -> float | None:
    """EV at ``target_l0`` read off the trials' EV-L0 curve: linear in log L0 between the closest trials on
    either side of the target (None unless the target is bracketed)."""
    above = [t for t in trials if t["l0"] > target_l0]
    below = [t for t in trials if 0 < t["l0"] <= target_l0]
    if not above or not below:
        return None
    a, b = min(above, key=lambda t: t["l0"]), max(below, key=lambda t: t["l0"])
    if a["l0"] == b["l0"]:
        return float(b["ev"])
    w = math.log(target_l0 / b["l0"]) / math.log(a["l0"] / b["l0"])
    return float(b["ev"] + w * (a["ev"] - b["ev"]))


def next_coefficient(lo: tuple[float, float], hi: tuple[float, float], target_l0: float) -> float:
    """The coefficient where the line through ``lo`` and ``hi`` ((coefficient, L0) pairs, L0 above / below the
    target) in log-log space reaches ``target_l0``, clamped to the middle 80 % of the bracket (log scale)."""
    (c_lo, l_lo), (c_hi, l_hi) = lo, hi
    a, b = math.log(c_lo), math.log(c_hi)
    y_lo, y_hi, y = math.log(max(l_lo, 1e-3)), math.log(max(l_hi, 1e-3)), math.log(target_l0)
    t = (y_lo - y) / (y_lo - y_hi) if y_lo != y_hi else 0.5
    return math.exp(a + min(max(t, 0.1), 0.9) * (b - a))


def extrapolate_coefficient(a: tuple[float, float], b: tuple[float, float], target_l0: float) -> float:
    """From two (coefficient, L0) trials on the same side of the target, the coefficient where their line in
    log-log space reaches ``target_l0``, moved at most x4 (or /4) from ``b``'s coefficient, and at least x1.25,
    in the direction that moves L0 towards the target."""
    (c1, l1), (c2, l2) = a, b
    up = l2 > target_l0  # L0 still too high: a larger coefficient
    slope = (math.log(max(l2, 1e-3)) - math.log(max(l1, 1e-3))) / (math.log(c2) - math.log(c1))
    factor = (
        math.exp((math.log(target_l0) - math.log(max(l2, 1e-3))) / slope)
        if slope < 0
        else (4 if up else 0.25)
    )
    factor = min(max(factor, 1.25), 4.0) if up else max(min(factor, 0.8), 0.25)
    return c2 * factor


def compare(
    plan: Plan,
    data: Data,
    out: Path | None,
    archs: list[str],
    sides: list[str],
    with_ce: bool = True,
    concurrent: bool = False,
) -> list[dict]:
    """Train and evaluate every architecture in ``archs`` on every side in ``sides``; one JSON record each.
    ``concurrent``: the sides of one architecture train at the same time (ours in a thread, SAELens in its
    process), so both see the same machine load; the next architecture starts when both are done."""
    train = load_matrix(data.train_path)
    steps = math.ceil(plan.budget / plan.batch)
    evaluate = Evaluator(data, plan, with_ce=with_ce)
    records = []

    def emit_trial(side: str, trial: dict) -> None:  # each ReLU trial as it ends (a cut-short run keeps them)
        emit({"architecture": "relu", "trial_of": side, "d_sae": plan.d_sae} | trial, out)

    with tempfile.TemporaryDirectory(prefix="saelab-quality-") as tmp:
        workdir = Path(tmp)
        for arch in archs:
            k = None if arch == "relu" else plan.k
            base = Spec(arch, arch, plan.d_sae, k, plan.batch, steps, lr=plan.lr)
            base = replace(base, saelens_sparse_activations=plan.saelens_sparse)
            row: dict[str, Any] = {"architecture": arch}

            def run_side(side: str, arch: str = arch, base: Spec = base) -> dict[str, Any]:
                result: dict[str, Any] = {}
                if arch == "relu":
                    sae, seconds, peer, trials = matched_relu(
                        side, base, float(plan.k), plan, data, train, evaluate, workdir, emit_trial
                    )
                    result[f"{side}_l1_trials"] = trials
                    result[f"{side}_ev_at_target_l0_interpolated"] = _round(interpolated_ev(trials, plan.k))
                else:
                    sae, seconds, peer = train_side(side, base, data, train, workdir)
                metrics = evaluate(sae)
                if arch == "batchtopk":  # the inference thresholds differ: also both sides at L0 = k exactly
                    for name, size in (("train_mode", plan.batch), ("matched_threshold", None)):
                        reading = batch_topk_reading(sae, evaluate.held_raw, plan.k, size)
                        metrics |= {f"{name}_{key}": value for key, value in reading.items()}
                result[side] = (
                    {key: _round(value) for key, value in metrics.items()}
                    | {"seconds": round(seconds, 1)}
                    | peer
                )
                return result

            if concurrent:  # both sides at once: each trains under the other's load
                with ThreadPoolExecutor(max_workers=len(sides)) as pool:
                    for result in pool.map(run_side, sides):
                        row |= result
            else:
                for side in sides:
                    row |= run_side(side)
            row["sides_ran"] = "concurrently" if concurrent else "one after the other"
            if "ours" in row and "saelens" in row:
                for key in ("", "train_mode_", "matched_threshold_"):  # ev_gap, train_mode_ev_gap, ...
                    if f"{key}explained_variance" in row["ours"]:
                        ours, theirs = row["ours"], row["saelens"]
                        row[f"{key}ev_gap"] = round(
                            ours[f"{key}explained_variance"] - theirs[f"{key}explained_variance"], 4
                        )
                row["time_ratio"] = round(row["ours"]["seconds"] / row["saelens"]["seconds"], 3)
            row |= {
                "d_in": train.shape[1], "d_sae": plan.d_sae, "k": plan.k, "batch": plan.batch, "steps": steps,
                "training_tokens": steps * plan.batch, "max_grad_norm": base.max_grad_norm, "unique_training_tokens": data.n_train,
                "heldout_tokens": next(iter(v["n_tokens"] for s, v in row.items() if s in sides)), "lr": plan.lr,
                "data": f"SmolLM2-135M {DATA_HOOK}, TinyStories, context {CONTEXT}",
                "evaluated_by": "saelab services.trainer.evaluate (both sides, same held-out tokens)",
                "machine": machine(),
            }  # fmt: skip
            emit(row, out)
            records.append(row)
    return records


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def main(argv: list[str] | None = None) -> None:
    from bench.train_throughput import default_corpus

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke version (tiny budget; figures not comparable)"
    )
    parser.add_argument(
        "--archs", default="topk,batchtopk,relu", help="comma-separated: topk, batchtopk, relu"
    )
    parser.add_argument("--sides", default="ours,saelens", help="comma-separated: ours, saelens")
    parser.add_argument("--corpus", type=Path, default=default_corpus(), help="TinyStories text")
    parser.add_argument("--activations", type=Path, help="an existing activation set instead of collecting")
    parser.add_argument("--no-ce", action="store_true", help="leave out CE loss recovered (no LM forwards)")
    parser.add_argument("--d-sae", type=int, help="dictionary width (default: the plan's)")
    parser.add_argument("--batch", type=int, help="tokens per training step (default: the plan's)")
    parser.add_argument("--budget", type=int, help="training tokens per SAE (default: the plan's)")
    parser.add_argument("--bisect-steps", type=int, help="most ReLU trainings per side (default: the plan's)")
    parser.add_argument(
        "--relu-l1",
        type=lambda text: tuple(float(c) for c in text.split(",")),
        help="the ReLU search's first round of L1 coefficients, comma-separated, trained concurrently (default 5)",
    )
    parser.add_argument("--ce-contexts", type=int, help="held-out contexts for CE loss recovered")
    parser.add_argument(
        "--saelens-sparse", action="store_true", help="SAELens TopK family with use_sparse_activations"
    )
    parser.add_argument(
        "--concurrent",
        action="store_true",
        help="train both sides of an architecture at the same time (same load; halves the wall time)",
    )
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    archs, sides = args.archs.split(","), args.sides.split(",")
    bad = [a for a in archs if a not in ("topk", "batchtopk", "relu")] + [
        s for s in sides if s not in ("ours", "saelens")
    ]
    if bad:
        raise SystemExit(f"--archs/--sides: unknown {', '.join(bad)}")
    plan = QUICK if args.quick else FULL
    sizes = {
        "d_sae": args.d_sae,
        "batch": args.batch,
        "budget": args.budget,
        "bisect_steps": args.bisect_steps,
    }
    sizes |= {"relu_l1": args.relu_l1, "saelens_sparse": args.saelens_sparse or None}
    sizes |= {"ce_contexts": args.ce_contexts}
    plan = replace(plan, **{key: value for key, value in sizes.items() if value is not None})
    data = prepare_data(args.corpus, plan, args.activations)
    compare(plan, data, args.out, archs, sides, with_ce=not args.no_ce, concurrent=args.concurrent)


if __name__ == "__main__":
    main()
