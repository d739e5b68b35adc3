"""Batches of whole contexts from an activation dataset, with the next shard read in a background thread."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from shared.shards import ActivationSet


@dataclass
class ContextBatch:
    """Contexts ``[start, start + n)`` of the dataset."""

    start: int
    acts: np.ndarray
    """``[n, T, d_in]`` float32."""
    tokens: np.ndarray
    """``[n, T]`` int32."""


def iter_batches(
    dataset: ActivationSet, contexts_per_batch: int, max_contexts: int | None = None
) -> Iterator[ContextBatch]:
    """Yield batches of at most ``contexts_per_batch`` whole contexts, stopping after ``max_contexts``."""
    if contexts_per_batch < 1:
        raise ValueError(f"contexts_per_batch must be positive, got {contexts_per_batch}")
    limit = dataset.n_contexts if max_contexts is None else min(max_contexts, dataset.n_contexts)
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shard-reader") as pool:
        pending: Future[tuple[np.ndarray, np.ndarray]] | None = (
            pool.submit(dataset.read_shard, 0) if limit else None
        )
        shard = 0
        while pending is not None and done < limit:
            acts, tokens = pending.result()
            shard += 1
            pending = pool.submit(dataset.read_shard, shard) if shard < dataset.n_shards else None
            take = min(len(acts), limit - done)
            for lo in range(0, take, contexts_per_batch):
                hi = min(lo + contexts_per_batch, take)
                yield ContextBatch(start=done + lo, acts=acts[lo:hi], tokens=tokens[lo:hi])
            done += take
        if pending is not None:
            pending.cancel()
