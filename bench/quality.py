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
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.peers.common import TimedBatches, emit, load_matrix, machine

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
SAELENS_PY = REPO / ".bench" / "saelens" / "bin" / "python"
DATA_HOOK = "blocks.15.hook_resid_pre"
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


FULL = Plan(1_120_000, 0.05, 1_000_000, 4096, 4608, 32, 4e-4, 64, 6)
QUICK = Plan(12_800, 0.2, 40_960, 512, 768, 16, 1e-3, 4, 5)


@dataclass(frozen=True)
class Spec:
    """One training, handed verbatim to both trainers (the peer reads the same JSON keys)."""

    config: str
    architecture: str
    d_sae: int
    k: int | None
    batch: int
    steps: int
    warmup: int = 0
    lr: float = 4e-4
    l1_coefficient: float = 5.0
    seed: int = 0


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

        activations = collect_smollm2(corpus, plan.collect_tokens)
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
    from shared.config import TrainConfig
    from shared.sae import SAEConfig, create_sae

    start = time.perf_counter()
    torch.manual_seed(spec.seed)
    cfg = TrainConfig(
        architecture=spec.architecture,
        d_sae=spec.d_sae,
        k=spec.k,
        l1_coefficient=spec.l1_coefficient,
        scale_l1_by_decoder_norm=spec.architecture == "relu",  # SAELens's standard SAE always scales it
        lr=spec.lr,
        batch_size=spec.batch,
        n_steps=spec.warmup + spec.steps,
        normalise_activations="none",  # the array is already scaled; SAELens gets it the same way
        seed=spec.seed,
        device="cpu",
        log_every=10**6,
        checkpoint_minutes=0,
    )
    sae = create_sae(SAEConfig(architecture=spec.architecture, d_in=d_in, d_sae=spec.d_sae, k=spec.k))
    trainer = SAETrainer(sae, cfg, TimedBatches(train, spec.batch, spec.warmup), device="cpu")
    trainer.initialise(train[:16_384])
    trainer.fit()
    return trainer.sae, time.perf_counter() - start


def train_saelens(spec: Spec, data: Data, save_dir: Path) -> tuple[Any, float, dict]:
    """SAELens's SAETrainer in .bench/saelens; its SAE read back by our SAELens reader, its seconds, its record."""
    from shared.sae.saelens import read_saelens

    if not SAELENS_PY.is_file():
        raise FileNotFoundError(
            f"{SAELENS_PY}: the SAELens bench venv is missing; run bench/peers/setup_venvs.sh"
        )
    cmd = [str(SAELENS_PY), "-m", "bench.peers.saelens_train", "--train", str(data.train_path)]
    cmd += ["--eval", str(data.held_path)]
    cmd += ["--spec", json.dumps(asdict(spec)), "--save", str(save_dir)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"SAELens run of {spec.config} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    sae = read_saelens(save_dir, hook_name=DATA_HOOK).sae
    return sae, record["seconds"], record


# --------------------------------------------------------------------------------------------------------------
# Evaluation: our code, both sides
# --------------------------------------------------------------------------------------------------------------


class Evaluator:
    """Our evaluation of any SAE trained on ``Data``'s scaled array, on its held-out contexts."""

    def __init__(self, data: Data, plan: Plan, with_ce: bool = True) -> None:
        self.data, self.plan = data, plan
        self.n_held = len(
            load_matrix(data.held_path)
        )  # every held-out kept token (no "fewer than asked" warning)
        self.lm = None
        if with_ce:
            from services.trainer.evaluate import _ce_contexts
            from shared.lm import load_lm

            meta = data.aset.meta
            self.lm = load_lm(meta.model, meta.gguf_file, device="cpu")
            self.ce_inputs = _ce_contexts(data.aset, data.held, data.exclusion, plan.ce_contexts)

    @torch.no_grad()
    def __call__(self, sae: Any, with_ce: bool = True) -> dict[str, Any]:
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
        sae, seconds, record = train_saelens(spec, data, workdir / f"{spec.config}-{spec.l1_coefficient:g}")
        peer = {"peer_own_ev": round(record["ev"], 4), "peer_own_l0": round(record["l0"], 2)}
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
) -> tuple[Any, float, dict, list[dict]]:
    """Bisect (log scale) the L1 coefficient of ``side``'s ReLU SAE until its held-out L0 is within tolerance of
    ``target_l0``; the closest SAE, its wall seconds and every trial (coefficient, L0, EV)."""
    lo, hi = None, None  # coefficients known to give L0 above / below the target
    coef = base.l1_coefficient
    trials: list[dict] = []
    best: tuple[float, Any, float, dict] | None = None
    for _ in range(plan.bisect_steps):
        spec = replace(base, l1_coefficient=coef)
        sae, seconds, peer = train_side(side, spec, data, train, workdir)
        metrics = evaluate(sae, with_ce=False)
        l0 = metrics["l0"]
        trials.append(
            {"l1_coefficient": coef, "l0": round(l0, 2), "ev": round(metrics["explained_variance"], 4)}
        )
        log.info("%s relu l1 %.4g -> L0 %.1f (target %.1f)", side, coef, l0, target_l0)
        miss = abs(l0 - target_l0) / target_l0
        if best is None or miss < best[0]:
            best = (miss, sae, seconds, peer)
        if miss <= plan.l0_tolerance:
            break
        if l0 > target_l0:
            lo = coef
            coef = coef * 4 if hi is None else math.sqrt(coef * hi)
        else:
            hi = coef
            coef = coef / 4 if lo is None else math.sqrt(coef * lo)
    assert best is not None
    return best[1], best[2], best[3], trials


def compare(
    plan: Plan, data: Data, out: Path | None, archs: list[str], sides: list[str], with_ce: bool = True
) -> list[dict]:
    """Train and evaluate every architecture in ``archs`` on every side in ``sides``; one JSON record each."""
    train = load_matrix(data.train_path)
    steps = math.ceil(plan.budget / plan.batch)
    evaluate = Evaluator(data, plan, with_ce=with_ce)
    records = []
    with tempfile.TemporaryDirectory(prefix="saelab-quality-") as tmp:
        workdir = Path(tmp)
        for arch in archs:
            base = Spec(
                arch, arch, plan.d_sae, None if arch == "relu" else plan.k, plan.batch, steps, lr=plan.lr
            )
            row: dict[str, Any] = {"architecture": arch}
            for side in sides:
                if arch == "relu":
                    sae, seconds, peer, trials = matched_relu(
                        side, base, float(plan.k), plan, data, train, evaluate, workdir
                    )
                    row[f"{side}_l1_trials"] = trials
                else:
                    sae, seconds, peer = train_side(side, base, data, train, workdir)
                metrics = evaluate(sae)
                row[side] = (
                    {key: _round(value) for key, value in metrics.items()}
                    | {"seconds": round(seconds, 1)}
                    | peer
                )
            if "ours" in row and "saelens" in row:
                row["ev_gap"] = round(
                    row["ours"]["explained_variance"] - row["saelens"]["explained_variance"], 4
                )
                row["time_ratio"] = round(row["ours"]["seconds"] / row["saelens"]["seconds"], 3)
            row |= {
                "d_in": train.shape[1], "d_sae": plan.d_sae, "k": plan.k, "batch": plan.batch, "steps": steps,
                "training_tokens": steps * plan.batch, "unique_training_tokens": data.n_train,
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
    data = prepare_data(args.corpus, plan, args.activations)
    compare(plan, data, args.out, archs, sides, with_ce=not args.no_ce)


if __name__ == "__main__":
    main()
