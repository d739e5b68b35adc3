"""Analyse every feature of a trained SAE in one streaming pass and write the run's ``results/`` export."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared.config import AnalyseConfig, ConfigError
from shared.devices import resolve_device
from shared.exclusion import Exclusion
from shared.features import FeatureRecord, FeatureScore, Histogram, RunSummary
from shared.lm import LanguageModel, load_lm
from shared.paths import local_source
from shared.progress import ProgressSink, report
from shared.sae import SAE, TopKSAE, load_sae
from shared.shards import ActivationSet

from .accumulate import FeaturePass, PassSettings
from .build import Geometry, RecordBuilder
from .examples import Window
from .geometry import Unembed, decoder_neighbours, logit_lens
from .labels import Labeller, OfflineLabeller
from .projection import project_2d
from .results import write_results
from .stream import iter_batches

log = logging.getLogger(__name__)

N_SUMMARY_TOP = 20
DENSITY_BINS = 40


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------


def open_activations(run_dir: Path, sae: SAE) -> ActivationSet:
    """The activation dataset the SAE was trained on (``cfg.json`` ``activations_path``, absolute or run-relative)."""
    raw = sae.cfg.activations_path
    if not raw:
        raise ConfigError(
            f"{run_dir / 'cfg.json'}: activations_path: not set, so there is nothing to analyse (an imported SAE? "
            f"collect activations for it first: saelab analyse --run {run_dir} --corpus CORPUS --n-tokens N)"
        )
    candidates = [Path(raw)] if Path(raw).is_absolute() else [Path(raw), run_dir / raw]
    for path in candidates:
        if (path / "meta.json").is_file():
            dataset = ActivationSet.open(path)
            if dataset.d_in != sae.cfg.d_in:
                raise ConfigError(f"{path}: d_in {dataset.d_in} does not match the SAE's d_in {sae.cfg.d_in}")
            return dataset
    tried = ", ".join(str(p) for p in candidates)
    raise ConfigError(f"{run_dir / 'cfg.json'}: activations_path: no activation dataset at {tried}")


def pick_labeller(cfg: AnalyseConfig, labeller: Labeller | None) -> Labeller:
    """The labeller to use: the one passed in, else the offline one; ``llm`` needs one passed in."""
    if labeller is not None:
        return labeller
    if cfg.labeller == "llm":
        raise ConfigError(
            "labeller: 'llm' needs an LLM client passed to analyse_run(labeller=LLMLabeller(complete=...)); "
            "none is configured (use 'offline')"
        )
    return OfflineLabeller()


def pass_settings(cfg: AnalyseConfig, d_sae: int) -> PassSettings:
    return PassSettings(
        d_sae=d_sae,
        top_k=cfg.top_k,
        window=Window(cfg.window_left, cfg.window_right),
        quantile_samples=cfg.quantile_samples if cfg.n_quantiles > 0 else 0,
        heldout_every=cfg.heldout_every,
        coactivation_tokens=cfg.coactivation_tokens,
        seed=cfg.seed,
    )


# --------------------------------------------------------------------------------------------------------------
# The streaming pass
# --------------------------------------------------------------------------------------------------------------


def _max_contexts(cfg: AnalyseConfig, dataset: ActivationSet) -> int:
    if cfg.n_tokens is None:
        return dataset.n_contexts
    return min(
        dataset.n_contexts, max(1, cfg.n_tokens // dataset.context_length)
    )  # whole contexts, at most n


def encode(sae: SAE, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
    """Dense feature activations, plus (values, indices) for a TopK SAE (so its firings need no dense scan)."""
    if isinstance(sae, TopKSAE):
        values, idx = sae.encode_sparse(x)
        dense = torch.zeros(*x.shape[:-1], sae.cfg.d_sae, dtype=values.dtype, device=values.device)
        return dense.scatter_(-1, idx, values), (values, idx)
    return sae.encode(x), None


@torch.inference_mode()
def run_pass(
    sae: SAE,
    dataset: ActivationSet,
    cfg: AnalyseConfig,
    device: torch.device,
    progress: ProgressSink | None = None,
) -> FeaturePass:
    """Encode the dataset's contexts in batches and feed every running statistic; return the finished state."""
    fp = FeaturePass(pass_settings(cfg, sae.cfg.d_sae), str(device))
    limit = _max_contexts(cfg, dataset)
    per_batch = max(1, cfg.batch_tokens // dataset.context_length)
    T = dataset.context_length
    # Exactly the positions training and evaluation left out (BOS ids anywhere, massive-norm attention sinks):
    # they stay visible inside example windows but feed no statistic.
    exclusion = Exclusion.for_sae(sae.cfg.extra, dataset.meta, cfg.exclude_bos)
    log.info("analysis leaves out %s", exclusion)
    for batch in iter_batches(dataset, per_batch, limit):
        x = torch.from_numpy(batch.acts).to(device, non_blocking=True)
        tokens = torch.from_numpy(batch.tokens).to(device, non_blocking=True)
        keep = torch.from_numpy(exclusion.keep_mask(batch.acts, batch.tokens)).to(device, non_blocking=True)
        contexts = torch.arange(batch.start, batch.start + len(batch.acts), device=device)
        acts, topk = encode(sae, x)
        fp.update(acts, tokens, contexts, topk, keep)
        report(progress, (batch.start + len(batch.acts)) * T, limit * T)
    return fp


@torch.inference_mode()
def run_encode_only(sae: SAE, dataset: ActivationSet, cfg: AnalyseConfig, device: torch.device) -> int:
    """The same batches through the bare encoder and nothing else (the benchmark's baseline); returns tokens."""
    per_batch = max(1, cfg.batch_tokens // dataset.context_length)
    n = 0
    for batch in iter_batches(dataset, per_batch, _max_contexts(cfg, dataset)):
        sae.encode(torch.from_numpy(batch.acts).to(device, non_blocking=True))
        n += batch.acts.shape[0] * batch.acts.shape[1]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return n


# --------------------------------------------------------------------------------------------------------------
# After the pass
# --------------------------------------------------------------------------------------------------------------


def compute_geometry(sae: SAE, unembed: Unembed, cfg: AnalyseConfig) -> Geometry:
    """Decoder-cosine neighbours, logit lens and 2-D map position of every feature."""
    w_dec = sae.W_dec.detach()
    idx, cos = decoder_neighbours(w_dec, cfg.n_neighbours)
    top_ids, top_vals, bot_ids, bot_vals = logit_lens(unembed, w_dec, cfg.n_logit_tokens)
    xy = (
        project_2d(w_dec, epochs=cfg.map_epochs, seed=cfg.seed, neighbours=idx)
        if cfg.map_epochs > 0
        else None
    )
    return Geometry(
        map_xy=xy,
        neighbour_idx=idx.cpu().numpy(),
        neighbour_cos=cos.cpu().numpy(),
        top_ids=top_ids.numpy(),
        top_logits=top_vals.numpy(),
        bottom_ids=bot_ids.numpy(),
        bottom_logits=bot_vals.numpy(),
    )


def density_histogram(features: list[FeatureRecord]) -> Histogram:
    """Histogram of log10 density over live features; ``zero_fraction`` = dead fraction."""
    logs = np.array([f.log10_density for f in features if f.log10_density is not None])
    dead = sum(f.dead for f in features) / max(len(features), 1)
    if logs.size == 0:
        return Histogram(edges=[], counts=[], zero_fraction=dead)
    counts, edges = np.histogram(logs, bins=DENSITY_BINS)
    return Histogram(edges=edges.tolist(), counts=counts.tolist(), zero_fraction=dead)


def make_summary(
    cfg: AnalyseConfig,
    sae: SAE,
    dataset: ActivationSet,
    fp: FeaturePass,
    features: list[FeatureRecord],
    seconds: float,
) -> RunSummary:
    by_density = sorted(features, key=lambda f: (-f.density, f.index))[:N_SUMMARY_TOP]
    by_max = sorted(features, key=lambda f: (-f.max_activation, f.index))[:N_SUMMARY_TOP]
    grades: dict[str, int] = {}
    for f in features:
        if f.grade is not None:
            grades[f.grade] = grades.get(f.grade, 0) + 1
    n_dead = sum(f.dead for f in features)
    return RunSummary(
        run=cfg.run,
        model_name=sae.cfg.model_name or str(dataset.meta.model),
        hook_name=sae.cfg.hook_name or str(dataset.meta.hook),
        architecture=sae.cfg.architecture,
        d_in=sae.cfg.d_in,
        d_sae=sae.cfg.d_sae,
        activations_path=str(dataset.path),
        n_tokens=fp.stats.n_tokens,
        n_contexts=fp.n_contexts,
        n_dead=n_dead,
        n_dense=sum(f.dense for f in features),
        n_alive=len(features) - n_dead,
        dense_threshold=cfg.dense_threshold,
        density_histogram=density_histogram(features),
        top_by_density=[FeatureScore(index=f.index, value=f.density) for f in by_density if not f.dead],
        top_by_max_activation=[
            FeatureScore(index=f.index, value=f.max_activation) for f in by_max if not f.dead
        ],
        grade_counts=grades,
        config=cfg.model_dump(mode="json"),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        seconds=seconds,
        tokens_per_s=fp.stats.n_tokens / seconds if seconds > 0 else 0.0,
    )


# --------------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _public(config: dict[str, Any]) -> dict[str, Any]:
    """The analyse config without the worker-local run folder."""
    return {k: v for k, v in config.items() if k != "run"}


def analyse_run(
    cfg: AnalyseConfig,
    progress: ProgressSink | None = None,
    labeller: Labeller | None = None,
    lm: LanguageModel | None = None,
    stored_as: tuple[str, str] | None = None,
) -> Path:
    """Analyse the run directory ``cfg.run``; write and return ``<run>/results`` (previous results replaced).

    ``labeller`` overrides the config's choice (an :class:`LLMLabeller` must be passed this way); ``lm`` reuses an
    already loaded model of the run (for the logit lens and token strings) instead of loading it again.
    ``stored_as`` = (run, activations) names summary.json records instead of the local folders (the task passes
    store keys, so no server path reaches the database or the API)."""
    run_dir = Path(cfg.run)
    labeller = pick_labeller(cfg, labeller)
    device = resolve_device(cfg.device)
    sae = load_sae(run_dir, device=device).eval()
    dataset = open_activations(run_dir, sae)
    if lm is None:
        model = sae.cfg.model_name or str(dataset.meta.model)
        lm = load_lm(
            local_source(model, field="model") or model,
            sae.cfg.model_gguf_file or dataset.meta.gguf_file,
            device=str(device),
        )
        lm.name = model  # a stored reference stays one in messages
    if lm.d_model != sae.cfg.d_in:
        raise ConfigError(
            f"model {lm.name!r}: d_model {lm.d_model} does not match the SAE's d_in {sae.cfg.d_in}"
        )
    log.info("analysing %s: d_sae %d over %s", run_dir, sae.cfg.d_sae, dataset.path)
    start = time.perf_counter()
    fp = run_pass(sae, dataset, cfg, device, progress)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    geometry = compute_geometry(sae, lm.unembed, cfg)
    with _gc_paused():  # millions of small objects, no cycles: the collector's rescans would double the time
        builder = RecordBuilder(fp, cfg, lm.token_strings, geometry, labeller)
        features, examples = [], []
        for f in range(sae.cfg.d_sae):
            record, ex = builder.feature(f)
            features.append(record)
            examples.extend(ex)
        token_index = builder.token_index()
        # still paused: the summary's sorts and the writers allocate enough to trigger full collections that
        # would rescan every record built above
        summary = make_summary(cfg, sae, dataset, fp, features, seconds)
        if stored_as is not None:
            summary = summary.model_copy(
                update={
                    "run": stored_as[0],
                    "activations_path": stored_as[1],
                    "config": _public(summary.config),
                }
            )
        out = write_results(run_dir, summary, features, examples, token_index)
    log.info(
        "analysis of %s done: %.0f tokens/s, %d dead, %d dense",
        run_dir,
        summary.tokens_per_s,
        summary.n_dead,
        summary.n_dense,
    )
    return out
