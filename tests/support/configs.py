"""Pipeline configs sized for tests on the tiny random GPT-2 (``tiny_gpt2_dir``) and ``small_corpus``."""

from __future__ import annotations

from pathlib import Path


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
