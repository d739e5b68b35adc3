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

from services.trainer.data import Segment, split_segments
from services.trainer.run import CONFIG_FILE
from services.trainer.train import DENSE_DENSITY
from shared.config import EvaluateConfig, TrainConfig, load_config
from shared.devices import resolve_device
from shared.exclusion import Exclusion
from shared.progress import ProgressSink, report
from shared.sae import SAE, load_sae
from shared.sae.imports import PROVENANCE_FILE
from shared.shards import ActivationSet

log = logging.getLogger(__name__)

EVAL_FILE = "eval.json"
DENSITY_EDGES = [-8.0 + 0.5 * i for i in range(17)]
"""log10 feature-density bin edges, 1e-8 .. 1."""
RECON_BATCH = 4096


class EvaluateError(RuntimeError):
    """The run cannot be evaluated; the message says why."""


def evaluate_run(
    cfg: EvaluateConfig, progress: ProgressSink | None = None, stored_as: str | None = None
) -> dict[str, Any]:
    """Evaluate the trained SAE of run ``cfg.run`` on its held-out contexts; writes and returns eval.json.

    ``stored_as`` is the run name eval.json records instead of the local folder (the task passes the store key,
    so no server path reaches the database or the API)."""
    run_dir = Path(cfg.run)
    device = resolve_device(cfg.device)
    sae = _load_sae(run_dir, device)
    aset, held = _held_out(run_dir, sae)
    exclusion = Exclusion.for_sae(sae.cfg.extra, aset.meta)  # what the SAE's training left out
    result: dict[str, Any] = {
        "run": stored_as or str(run_dir),
        "sae": _describe(sae),
        "heldout_contexts": _count(held),
        "ce_contexts_requested": cfg.ce_contexts,
    }
    ce_tokens = min(cfg.ce_contexts, _count(held)) * aset.context_length

    def recon_progress(done: float, total: float, message: str = "") -> None:
        report(progress, done, total + ce_tokens, message)

    result |= reconstruction_metrics(sae, aset, held, exclusion, cfg.n_tokens, device, recon_progress)
    n = result["n_tokens"]

    def ce_progress(done: float, total: float, message: str = "") -> None:
        report(progress, n + done * aset.context_length, n + ce_tokens, message)

    from shared.lm import load_lm  # transformers is heavy: import only when the CE evaluation runs
    from shared.paths import local_source

    model = local_source(sae.cfg.model_name, field="model") or sae.cfg.model_name
    lm = load_lm(model, sae.cfg.model_gguf_file, device=str(device))
    lm.name = sae.cfg.model_name  # a stored reference stays one in messages
    ids, acts, keep = _ce_contexts(aset, held, exclusion, cfg.ce_contexts)
    result |= ce_metrics(sae, lm, ids, acts, keep, cfg.batch_size, device, ce_progress)
    _write_json(run_dir / EVAL_FILE, result)
    return result


def _load_sae(run_dir: Path, device: torch.device) -> SAE:
    if not (run_dir / "sae.safetensors").is_file():
        raise EvaluateError(f"{run_dir}: no sae.safetensors; train the run to the end first (saelab train)")
    if not (run_dir / CONFIG_FILE).is_file() and not (run_dir / PROVENANCE_FILE).is_file():
        raise EvaluateError(
            f"{run_dir}: no {CONFIG_FILE} and no {PROVENANCE_FILE}; not a run directory written by saelab train "
            "or saelab import"
        )
    return load_sae(run_dir, device=device).eval()


def _held_out(run_dir: Path, sae: SAE) -> tuple[ActivationSet, list[Segment]]:
    """The activation set and its held-out contexts: a trained run's eval split, or, for an imported SAE (never
    trained here), every context collected for it."""
    if (run_dir / CONFIG_FILE).is_file():
        train_cfg = load_config(TrainConfig, run_dir / CONFIG_FILE)
        aset = ActivationSet.open(
            _activations_path(run_dir, sae, train_cfg.activations), require_complete=True
        )
        _, held = split_segments(aset, train_cfg.eval_fraction)
        if not held:
            raise EvaluateError(f"{run_dir}: trained with eval_fraction 0, so there are no held-out contexts")
        return aset, held
    if not sae.cfg.activations_path:
        raise EvaluateError(
            f"{run_dir}: an imported SAE with no activations yet; collect some for its model and hook: "
            f"saelab evaluate --run {run_dir} --corpus CORPUS --n-tokens N"
        )
    aset = ActivationSet.open(_activations_path(run_dir, sae, None), require_complete=True)
    return aset, [Segment(i, 0, info.n_contexts) for i, info in enumerate(aset.meta.shards)]


def _activations_path(run_dir: Path, sae: SAE, fallback: str | None) -> str:
    """cfg.json's activation set (absolute, or relative to the working directory or the run), else ``fallback``."""
    recorded = sae.cfg.activations_path
    if recorded:
        for path in (Path(recorded), run_dir / recorded):
            if path.is_dir():
                return str(path)
    if fallback is None:
        raise EvaluateError(f"{run_dir / 'cfg.json'}: activations_path: no activation set at {recorded}")
    return fallback


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
    """EV, MSE, L0, dead/dense fractions and the density histogram on the first ``n_tokens`` kept held-out tokens
    (all of them, with a warning in the result, when the held-out split has fewer)."""
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
    warnings = []
    if n < n_tokens:
        warnings.append(
            f"only {n:,} held-out tokens (after exclusions) for the reconstruction, dead and dense metrics; "
            f"{n_tokens:,} were asked for (n_tokens): collect more tokens or raise eval_fraction"
        )
        log.warning("evaluation: %s", warnings[-1])
    return {"n_tokens": n, "n_tokens_requested": n_tokens, "warnings": warnings} | sae_metrics(
        sae, x_all, device, progress
    )


@torch.no_grad()
def sae_metrics(
    sae: SAE, x_all: Tensor, device: torch.device, progress: ProgressSink | None = None
) -> dict[str, Any]:
    """Reconstruction and density metrics of ``sae`` on the tokens ``x_all [N, d_in]`` (definitions in
    docs/theory.md section 5): EV = 1 - RSS/TSS with TSS around the tokens' mean (float64); a latent is active
    where its activation is nonzero; dead = active on none of the N tokens; dense = active on more than
    DENSE_DENSITY of them."""
    n = len(x_all)
    fires = torch.zeros(sae.cfg.d_sae, dtype=torch.float64, device=device)
    rss = l0 = 0.0
    for start in range(0, n, RECON_BATCH):
        x = x_all[start : start + RECON_BATCH].to(device)
        f = sae.encode(x)
        recon = sae.denormalise_output(sae.decode(f), x)
        rss += float((x.double() - recon.double()).pow(2).sum())
        active = f != 0
        l0 += float(active.sum())
        fires += active.sum(0).double()
        report(progress, start + len(x), n, "reconstruction")
    x64 = x_all.double()
    tss = float((x64 - x64.mean(0)).pow(2).sum())
    density = (fires / n).cpu()
    return {
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


def special_token_ids(tokenizer: Any) -> list[int]:
    """The tokenizer's structural special tokens (BOS, EOS, PAD, SEP, decoder start), as SAELens's
    ``get_special_token_ids``: positions holding them are left out of the CE and KL averages."""
    attrs = ("bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id")
    return sorted({int(i) for a in attrs if isinstance(i := getattr(tokenizer, a, None), int)})


@torch.no_grad()
def ce_metrics(
    sae: SAE,
    lm: Any,
    ids: Tensor,
    acts: Tensor,
    keep: Tensor,
    batch_size: int,
    device: torch.device,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """CE loss recovered and KL on contexts ``ids [n, T]`` (their stored activations ``acts [n, T, d]``), as
    SAELens's ``get_recons_loss`` (docs/theory.md section 5).

    Three forwards per batch through ``lm.logits_with_replacement``: clean; the SAE's reconstruction spliced in at
    the ``keep`` positions (those the SAE is trained and measured on; the others keep their clean activations);
    zero ablation of the hook at every position. The per-position CE of predicting token t+1 from position t and
    the per-position KL(clean || spliced) are averaged over the positions t whose token is not one of the
    tokenizer's special tokens (``special_token_ids``)."""
    hook = sae.cfg.hook_name
    counted = ~torch.isin(ids, torch.tensor(special_token_ids(lm.tokenizer), dtype=ids.dtype))
    totals = {"clean": 0.0, "sae": 0.0, "zero": 0.0, "ce_tokens": 0, "kl": 0.0, "kl_tokens": 0,
              "match_err": 0.0, "match_norm": 0.0}  # fmt: skip
    for start in range(0, len(ids), batch_size):
        b_ids = ids[start : start + batch_size].to(device)
        b_keep = keep[start : start + batch_size].to(device)[..., None]
        b_acts = acts[start : start + batch_size].to(device)

        def splice(h: Tensor, keep_: Tensor = b_keep, stored: Tensor = b_acts) -> Tensor:
            totals["match_err"] += float((h.float() - stored).pow(2).sum())
            totals["match_norm"] += float(stored.pow(2).sum())
            return torch.where(keep_, sae(h.float()).to(h.dtype), h)

        clean = lm.logits_with_replacement(b_ids, hook, None)
        spliced = lm.logits_with_replacement(b_ids, hook, splice)
        zeroed = lm.logits_with_replacement(b_ids, hook, torch.zeros_like)
        for key, value in ce_kl_sums(
            clean, spliced, zeroed, b_ids, counted[start : start + batch_size]
        ).items():
            totals[key] += value
        report(progress, start + len(b_ids), len(ids), "CE loss")
    return _ce_summary(totals, len(ids))


def ce_kl_sums(
    clean: Tensor, spliced: Tensor, zeroed: Tensor, ids: Tensor, counted: Tensor
) -> dict[str, float]:
    """Sums over counted positions of the next-token CE of each run and of KL(clean || spliced), and the counts.

    CE at position t < T-1 is ``-log p(ids[t+1] | ..t)``, counted when ``counted[t]`` (SAELens masks by the token
    at t, the last position has no target); KL at every position t with ``counted[t]``."""
    counted = counted.to(ids.device)
    sums = {"clean": 0.0, "sae": 0.0, "zero": 0.0, "kl": 0.0, "ce_tokens": 0, "kl_tokens": 0}
    for b in range(len(ids)):  # one context at a time: [T, V] in float64 stays small
        targets, ce_mask = ids[b, 1:, None], counted[b, :-1]
        for key, logits in (("clean", clean), ("sae", spliced), ("zero", zeroed)):
            nll = -logits[b, :-1].double().log_softmax(-1).gather(-1, targets)[:, 0]
            sums[key] += float(nll[ce_mask].sum())
        p_log, q_log = clean[b].double().log_softmax(-1), spliced[b].double().log_softmax(-1)
        kl = (p_log.exp() * (p_log - q_log)).sum(-1)
        sums["kl"] += float(kl[counted[b]].sum())
        sums["ce_tokens"] += int(ce_mask.sum())
        sums["kl_tokens"] += int(counted[b].sum())
    return sums


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


def _ce_summary(t: dict[str, float], n_contexts: int) -> dict[str, Any]:
    n, n_kl = max(int(t["ce_tokens"]), 1), max(int(t["kl_tokens"]), 1)
    clean, sae, zero = t["clean"] / n, t["sae"] / n, t["zero"] / n
    match = math.sqrt(t["match_err"] / t["match_norm"]) if t["match_norm"] > 0 else float("nan")
    if match > 0.05:
        log.warning(
            "the LM's activations at the hook differ from the stored ones by %.1f%% (relative)", 100 * match
        )
    return {
        "ce_contexts": n_contexts,
        "ce_tokens": int(t["ce_tokens"]),
        "kl_tokens": int(t["kl_tokens"]),
        "ce_loss_clean": clean,
        "ce_loss_sae": sae,
        "ce_loss_zero_ablation": zero,
        "ce_loss_recovered": (zero - sae) / (zero - clean) if zero != clean else float("nan"),
        "ce_loss_increase": sae - clean,
        "kl_div": t["kl"] / n_kl,
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
    ("dead_fraction", "dead features (fire on none of the {n} tokens)", "{:.2%}"),
    ("dense_fraction", f"dense features (fire on > {DENSE_DENSITY:.0%} of the {{n}} tokens)", "{:.2%}"),
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
    n = f"{result.get('n_tokens', 0):,}"
    rows = [(label.format(n=n), fmt.format(result[key])) for key, label, fmt in _ROWS if key in result]
    rows.append(("held-out tokens (recon / CE)", f"{n} / {result.get('ce_tokens', 0):,}"))
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
    lines += [f"WARNING: {warning}" for warning in result.get("warnings", [])]
    return "\n".join(lines)
