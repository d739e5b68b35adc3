"""Configs sized for tests: pipeline configs for the tiny random GPT-2 (``tiny_gpt2_dir``) and ``small_corpus``, and
the settings of a feature pass over a handful of contexts."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_configs(model_dir: Path, corpus: Path, **train: object) -> tuple[dict, dict, dict]:
    """Collect / train / analyse configs for the tiny GPT-2: a few thousand tokens, a small SAE, seconds each."""
    collect = {
        "model": str(model_dir),
        "corpus": str(corpus),
        "hook": "blocks.2.hook_resid_pre",
        "context_length": 64,
        "n_tokens": 2048,
        "shard_contexts": 8,
        "batch_size": 8,
        "device": "cpu",
    }
    train_cfg = {
        "d_sae": 64,
        "n_steps": 60,
        "batch_size": 128,
        "log_every": 20,
        "checkpoint_every": 30,
        "lr": 1e-3,
        "shuffle_buffer_tokens": 1024,
        "device": "cpu",
    } | train
    analyse = {"top_k": 5, "n_quantiles": 2, "batch_tokens": 1024, "device": "cpu"}
    return collect, train_cfg, analyse


def tiny_pass_settings(d_sae: int, top_k: int, quantile_samples: int) -> Any:
    """``PassSettings`` for a few contexts: windows of 2 tokens left and 1 right, every 3rd context held out,
    co-activation counted on every token."""
    from services.analyser.accumulate import PassSettings
    from services.analyser.examples import Window

    return PassSettings(
        d_sae=d_sae,
        top_k=top_k,
        window=Window(2, 1),
        quantile_samples=quantile_samples,
        heldout_every=3,
        coactivation_tokens=10**9,
    )
