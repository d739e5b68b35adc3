"""``evaluate_run(cfg)``: held-out reconstruction metrics, feature density, CE loss recovered and KL; eval.json."""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from services.trainer.data import Exclusion, Segment, split_segments
from services.trainer.run import CONFIG_FILE, resolve_device
from services.trainer.train import DENSE_DENSITY
from shared.config import EvaluateConfig, TrainConfig, load_config
from shared.progress import ProgressSink, report
from shared.sae import SAE, load_sae
from shared.shards import ActivationSet

log = logging.getLogger(__name__)

EVAL_FILE = "eval.json"
DENSITY_EDGES = [-8.0 + 0.5 * i for i in range(17)]
"""log10 feature-density bin edges, 1e-8 .. 1."""
RECON_BATCH = 4096


class EvaluateError(RuntimeError):
    """The run cannot be evaluated; the message says why."""


def evaluate_run(cfg: EvaluateConfig, progress: ProgressSink | None = None) -> dict[str, Any]:
    """Evaluate the trained SAE of run ``cfg.run`` on its held-out contexts; writes and returns eval.json."""
    run_dir = Path(cfg.run)
    device = resolve_device(cfg.device)
    train_cfg, sae = _load_run(run_dir, device)
    aset = ActivationSet.open(_activations_path(sae, train_cfg), require_complete=True)
    _, held = split_segments(aset, train_cfg.eval_fraction)
    if not held:
        raise EvaluateError(f"{run_dir}: trained with eval_fraction 0, so there are no held-out contexts")
    exclusion = Exclusion(
        train_cfg.exclude_bos,
        aset.meta.bos_token_id,
        aset.meta.prepend_bos,
        sae.cfg.extra.get("norm_threshold"),
    )
    result: dict[str, Any] = {"run": str(run_dir), "sae": _describe(sae), "heldout_contexts": _count(held)}
    ce_tokens = min(cfg.ce_contexts, _count(held)) * aset.context_length

    def recon_progress(done: float, total: float, message: str = "") -> None:
        report(progress, done, total + ce_tokens, message)

    result |= reconstruction_metrics(sae, aset, held, exclusion, cfg.n_tokens, device, recon_progress)
    n = result["n_tokens"]

    def ce_progress(done: float, total: float, message: str = "") -> None:
        report(progress, n + done * aset.context_length, n + ce_tokens, message)

    result |= ce_metrics(sae, aset, held, exclusion, cfg, device, ce_progress)
    _write_json(run_dir / EVAL_FILE, result)
    return result


def _load_run(run_dir: Path, device: torch.device) -> tuple[TrainConfig, SAE]:
    if not (run_dir / "sae.safetensors").is_file():
        raise EvaluateError(f"{run_dir}: no sae.safetensors; train the run to the end first (saelab train)")
    if not (run_dir / CONFIG_FILE).is_file():
        raise EvaluateError(f"{run_dir}: no {CONFIG_FILE}; not a run directory written by saelab train")
    return load_config(TrainConfig, run_dir / CONFIG_FILE), load_sae(run_dir, device=device).eval()


def _activations_path(sae: SAE, train_cfg: TrainConfig) -> str:
    recorded = sae.cfg.activations_path
    return recorded if recorded and Path(recorded).is_dir() else train_cfg.activations


def _describe(sae: SAE) -> dict[str, Any]:
    c = sae.cfg
    return {"architecture": c.architecture, "d_in": c.d_in, "d_sae": c.d_sae, "k": c.k, "hook_name": c.hook_name,
            "model_name": c.model_name}  # fmt: skip


def _count(segments: list[Segment]) -> int:
    return sum(s.n_contexts for s in segments)


def _iter_contexts(aset: ActivationSet, segments: list[Segment]):  # type: ignore[no-untyped-def]
    for seg in segments:
        acts, tokens = aset.read_shard(seg.shard)
        yield acts[seg.start : seg.stop], tokens[seg.start : seg.stop]


# --------------------------------------------------------------------------------------------- reconstruction


@torch.no_grad()
def reconstruction_metrics(
    sae: SAE,
    aset: ActivationSet,
    held: list[Segment],
    exclusion: Exclusion,
    n_tokens: int,
    device: torch.device,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """EV, MSE, L0, dead/dense fractions and the density histogram on up to ``n_tokens`` kept held-out tokens."""
    kept = []
    for acts, tokens in _iter_contexts(aset, held):
        kept.append(acts[exclusion.keep_mask(acts, tokens)])
        if sum(len(k) for k in kept) >= n_tokens:
            break
    x_all = torch.from_numpy(np.concatenate(kept)[:n_tokens])
    n = len(x_all)
    if n == 0:
        raise EvaluateError(
            f"{aset.path}: no held-out tokens left after excluding BOS and massive-norm tokens"
        )
    fires = torch.zeros(sae.cfg.d_sae, dtype=torch.float64, device=device)
    rss = l0 = 0.0
    for start in range(0, n, RECON_BATCH):
        x = x_all[start : start + RECON_BATCH].to(device)
        f = sae.encode(x)
        recon = sae.denormalise_output(sae.decode(f), x)
        rss += float((x - recon).double().pow(2).sum())
        active = f > 0
        l0 += float(active.sum())
        fires += active.sum(0).double()
        report(progress, start + len(x), n, "reconstruction")
    x64 = x_all.double()
    tss = float((x64 - x64.mean(0)).pow(2).sum())
    density = (fires / n).cpu()
    return {
        "n_tokens": n,
        "explained_variance": 1.0 - rss / tss,
        "mse": rss / n,
        "mse_per_dim": rss / (n * sae.cfg.d_in),
        "l0": l0 / n,
        "dead_fraction": float((density == 0).double().mean()),
        "dense_fraction": float((density > DENSE_DENSITY).double().mean()),
        "density_histogram": density_histogram(density),
    }


def density_histogram(density: Tensor) -> dict[str, Any]:
    """Counts of features per log10-density bin (dead features counted apart)."""
    alive = density[density > 0].double().log10().clamp(DENSITY_EDGES[0], DENSITY_EDGES[-1]).numpy()
    counts, _ = np.histogram(alive, bins=DENSITY_EDGES)
    return {"log10_edges": DENSITY_EDGES, "counts": counts.tolist(), "dead": int((density == 0).sum())}


# ------------------------------------------------------------------------------------------- CE loss and KL


@torch.no_grad()
def ce_metrics(
    sae: SAE,
    aset: ActivationSet,
    held: list[Segment],
    exclusion: Exclusion,
    cfg: EvaluateConfig,
    device: torch.device,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """Splice the reconstruction into the LM at the hook (kept positions only; excluded ones stay clean).

    CE loss recovered = (CE_zero - CE_sae) / (CE_zero - CE_clean), with CE_zero from zero-ablating the same
    positions; KL is KL(clean || sae) per predicted token."""
    from shared.lm import load_lm  # transformers is heavy: import only when the CE evaluation runs

    lm = load_lm(sae.cfg.model_name, sae.cfg.model_gguf_file, device=str(device))
    hook = sae.cfg.hook_name
    ids, acts, keep = _ce_contexts(aset, held, exclusion, cfg.ce_contexts)
    totals = {
        "clean": 0.0,
        "sae": 0.0,
        "zero": 0.0,
        "kl": 0.0,
        "tokens": 0,
        "match_err": 0.0,
        "match_norm": 0.0,
    }
    for start in range(0, len(ids), cfg.batch_size):
        b_ids = ids[start : start + cfg.batch_size].to(device)
        b_keep = keep[start : start + cfg.batch_size].to(device)[..., None]
        b_acts = acts[start : start + cfg.batch_size].to(device)

        def splice(h: Tensor, keep_: Tensor = b_keep, stored: Tensor = b_acts) -> Tensor:
            totals["match_err"] += float((h.float() - stored).pow(2).sum())
            totals["match_norm"] += float(stored.pow(2).sum())
            return torch.where(keep_, sae(h.float()).to(h.dtype), h)

        clean = lm.logits_with_replacement(b_ids, hook, None).float()
        spliced = lm.logits_with_replacement(b_ids, hook, splice).float()

        def ablate(h: Tensor, keep_: Tensor = b_keep) -> Tensor:
            return torch.where(keep_, torch.zeros_like(h), h)

        zeroed = lm.logits_with_replacement(b_ids, hook, ablate)
        targets = b_ids[:, 1:]
        totals["clean"] += _ce_sum(clean, targets)
        totals["sae"] += _ce_sum(spliced, targets)
        totals["zero"] += _ce_sum(zeroed.float(), targets)
        totals["kl"] += _kl_sum(clean[:, :-1], spliced[:, :-1])
        totals["tokens"] += targets.numel()
        report(progress, start + len(b_ids), len(ids), "CE loss")
    return _ce_summary(totals, len(ids))


def _ce_contexts(
    aset: ActivationSet, held: list[Segment], exclusion: Exclusion, n: int
) -> tuple[Tensor, Tensor, Tensor]:
    ids, acts, keep = [], [], []
    for a, t in _iter_contexts(aset, held):
        ids.append(t)
        acts.append(a)
        keep.append(exclusion.keep_mask(a, t))
        if sum(len(i) for i in ids) >= n:
            break
    to = torch.from_numpy
    return to(np.concatenate(ids)[:n]).long(), to(np.concatenate(acts)[:n]), to(np.concatenate(keep)[:n])


def _ce_sum(logits: Tensor, targets: Tensor) -> float:
    logp = logits[:, :-1].log_softmax(-1)
    return float(-logp.gather(-1, targets[..., None]).sum())


def _kl_sum(clean: Tensor, other: Tensor) -> float:
    p_log, q_log = clean.log_softmax(-1), other.log_softmax(-1)
    return float((p_log.exp() * (p_log - q_log)).sum())


def _ce_summary(t: dict[str, float], n_contexts: int) -> dict[str, Any]:
    n = max(int(t["tokens"]), 1)
    clean, sae, zero = t["clean"] / n, t["sae"] / n, t["zero"] / n
    match = math.sqrt(t["match_err"] / t["match_norm"]) if t["match_norm"] > 0 else float("nan")
    if match > 0.05:
        log.warning(
            "the LM's activations at the hook differ from the stored ones by %.1f%% (relative)", 100 * match
        )
    return {
        "ce_contexts": n_contexts,
        "ce_tokens": n,
        "ce_loss_clean": clean,
        "ce_loss_sae": sae,
        "ce_loss_zero_ablation": zero,
        "ce_loss_recovered": (zero - sae) / (zero - clean) if zero != clean else float("nan"),
        "ce_loss_increase": sae - clean,
        "kl_div": t["kl"] / n,
        "hook_activation_rel_error": match,
    }


# ---------------------------------------------------------------------------------------------------- output


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


_ROWS = [
    ("explained_variance", "explained variance", "{:.4f}"),
    ("mse", "MSE (sum over d_in, per token)", "{:.4g}"),
    ("l0", "L0 (active features / token)", "{:.1f}"),
    ("dead_fraction", "dead features", "{:.2%}"),
    ("dense_fraction", f"dense features (> {DENSE_DENSITY:.0%} of tokens)", "{:.2%}"),
    ("ce_loss_clean", "CE loss, clean", "{:.4f}"),
    ("ce_loss_sae", "CE loss, SAE spliced in", "{:.4f}"),
    ("ce_loss_zero_ablation", "CE loss, zero-ablated", "{:.4f}"),
    ("ce_loss_recovered", "CE loss recovered", "{:.2%}"),
    ("kl_div", "KL(clean || SAE) per token", "{:.4f}"),
]


def format_eval_table(result: dict[str, Any]) -> str:
    """A readable two-column table of an eval.json result (for the CLI)."""
    sae = result.get("sae", {})
    head = f"{sae.get('architecture', '?')} SAE d_sae={sae.get('d_sae', '?')} at {sae.get('hook_name', '?')}"
    rows = [(label, fmt.format(result[key])) for key, label, fmt in _ROWS if key in result]
    rows.append(
        ("held-out tokens (recon / CE)", f"{result.get('n_tokens', 0)} / {result.get('ce_tokens', 0)}")
    )
    width = max(len(label) for label, _ in rows)
    lines = [head, "-" * (width + 14)]
    lines += [f"{label:<{width}}  {value:>12}" for label, value in rows]
    hist = result.get("density_histogram")
    if hist:
        lines.append(f"{'feature density (log10 bins)':<{width}}  dead={hist['dead']}")
        top = max(hist["counts"]) or 1
        for lo, count in zip(hist["log10_edges"][:-1], hist["counts"], strict=True):
            if count:
                lines.append(
                    f"  1e{lo:+.1f} .. 1e{lo + 0.5:+.1f}  {count:>8}  {'#' * max(1, 40 * count // top)}"
                )
    return "\n".join(lines)
