"""Fixtures for trainer tests: small synthetic activation sets with a known sparse structure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from support.activations import write_resid_set

from shared.config import TrainConfig
from shared.shards import ActivationSet

BOS = 50256
MASSIVE = 5000.0


def synthetic_set(
    path: Path,
    n_contexts: int = 48,
    context_length: int = 16,
    d_in: int = 16,
    n_features: int = 32,
    shard_contexts: int = 8,
    seed: int = 0,
    massive: list[tuple[int, int]] = (),
) -> ActivationSet:
    """Activations = sparse sums of ``n_features`` random directions + offset; BOS at position 0 has a huge norm,
    and each (context, position) in ``massive`` gets a massive norm too."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(n_features, d_in))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    active = rng.random((n_contexts, context_length, n_features)) < 3 / n_features
    coeffs = active * rng.exponential(2.0, size=active.shape)
    acts = coeffs @ dirs + 0.5 + 0.01 * rng.normal(size=(n_contexts, context_length, d_in))
    acts[:, 0] = MASSIVE * dirs[0]
    for ctx, pos in massive:
        acts[ctx, pos] = MASSIVE * dirs[1]
    tokens = rng.integers(0, 1000, size=(n_contexts, context_length)).astype(np.int32)
    tokens[:, 0] = BOS
    return write_resid_set(
        path,
        acts.astype(np.float32),
        tokens,
        shard_contexts,
        model="synthetic",
        layer=1,
        bos_token_id=BOS,
        complete=True,
    )


@pytest.fixture(autouse=True)
def one_torch_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tiny shapes run 10-40x faster single-threaded on a shared 2-core machine (real-model tests keep all)."""
    before = torch.get_num_threads()
    if request.node.get_closest_marker("slow") is None:
        torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def synthetic(tmp_path: Path) -> ActivationSet:
    return synthetic_set(tmp_path / "acts")


def _train_cfg(aset: ActivationSet, out: Path, **overrides: Any) -> TrainConfig:
    """A small, fast TrainConfig over ``aset`` writing to ``out``."""
    base = dict(
        activations=str(aset.path),
        output=str(out),
        d_sae=32,
        batch_size=64,
        n_steps=40,
        lr=3e-3,
        l1_coefficient=0.5,
        log_every=10,
        device="cpu",
        shuffle_buffer_tokens=256,
        eval_fraction=0.25,
    )
    return TrainConfig(**(base | overrides))


@pytest.fixture
def make_set() -> Callable[..., ActivationSet]:
    """Factory: ``make_set(path, **kwargs)`` writes a synthetic activation set."""
    return synthetic_set


@pytest.fixture
def train_cfg() -> Callable[..., TrainConfig]:
    """Factory: ``train_cfg(aset, out, **overrides)`` gives a small CPU TrainConfig."""
    return _train_cfg
