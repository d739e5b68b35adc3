"""Training data over activation shards: held-out split, excluded positions left out, shuffled resumable batches."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from shared.exclusion import Exclusion, activation_norms
from shared.shards import ActivationSet

log = logging.getLogger(__name__)

NORM_SAMPLE_TOKENS = 131_072
"""Tokens (from the first training shards) the median activation norm is estimated from."""


@dataclass(frozen=True)
class Segment:
    """Contexts ``[start, stop)`` of shard ``shard``."""

    shard: int
    start: int
    stop: int

    @property
    def n_contexts(self) -> int:
        return self.stop - self.start


def split_segments(aset: ActivationSet, eval_fraction: float) -> tuple[list[Segment], list[Segment]]:
    """(train, held-out) segments: the last ``eval_fraction`` of contexts are held out (at least one if > 0)."""
    total = aset.n_contexts
    n_eval = min(total, max(1, round(total * eval_fraction))) if eval_fraction > 0 else 0
    n_train = total - n_eval
    if n_train < 1:
        raise ValueError(
            f"eval_fraction: {eval_fraction} leaves no training contexts out of {total} in {aset.path}"
        )
    train: list[Segment] = []
    held: list[Segment] = []
    offset = 0
    for i, info in enumerate(aset.meta.shards):
        lo, hi = offset, offset + info.n_contexts
        if lo < n_train:
            train.append(Segment(i, 0, min(hi, n_train) - lo))
        if hi > n_train:
            held.append(Segment(i, max(lo, n_train) - lo, info.n_contexts))
        offset = hi
    return train, held


class ActivationDataset:
    """The kept tokens of some segments of an ActivationSet, read shard by shard (optionally cached in RAM)."""

    def __init__(
        self,
        aset: ActivationSet,
        segments: list[Segment],
        *,
        exclude_bos: bool = True,
        exclude_norm_multiple: float | None = 10.0,
        norm_threshold: float | None = None,
        cache_in_ram: bool = True,
    ) -> None:
        if not segments:
            raise ValueError(f"{aset.path}: no contexts selected")
        self.aset = aset
        self.segments = segments
        self.cache_in_ram = cache_in_ram
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        meta = aset.meta
        base = Exclusion(exclude_bos, meta.bos_token_id, meta.prepend_bos, None)
        if norm_threshold is None and exclude_norm_multiple is not None:
            norm_threshold = exclude_norm_multiple * self._median_norm(base)
        self.exclusion = Exclusion(exclude_bos, meta.bos_token_id, meta.prepend_bos, norm_threshold)

    @property
    def d_in(self) -> int:
        return self.aset.d_in

    def read(self, seg: Segment) -> tuple[np.ndarray, np.ndarray]:
        """(acts [n, T, d] in the stored dtype, tokens [n, T]) of one segment."""
        if seg.shard in self._cache:
            acts, tokens = self._cache[seg.shard]
        else:
            acts, tokens = self.aset.read_shard(seg.shard, dtype=None)
            if self.cache_in_ram:
                self._cache[seg.shard] = (acts, tokens)
        return acts[seg.start : seg.stop], tokens[seg.start : seg.stop]

    def kept_tokens(self, segments: list[Segment]) -> Tensor:
        """[N, d] activations of the kept positions of ``segments``, in order (stored dtype)."""
        parts = []
        for seg in segments:
            acts, tokens = self.read(seg)
            parts.append(acts[self.exclusion.keep_mask(acts, tokens)])
        return torch.from_numpy(np.concatenate(parts))

    def _median_norm(self, base: Exclusion) -> float:
        norms: list[np.ndarray] = []
        for seg in self.segments:
            acts, tokens = self.read(seg)
            norms.append(activation_norms(acts)[base.keep_mask(acts, tokens)])
            if sum(len(n) for n in norms) >= NORM_SAMPLE_TOKENS:
                break
        flat = np.concatenate(norms)
        if flat.size == 0:
            raise ValueError(f"{self.aset.path}: every position is BOS; nothing to train on")
        return float(np.median(flat))

    def sample(self, n: int, seed: int) -> Tensor:
        """Up to ``n`` kept tokens (float32) drawn at random from the first segments (for init and scaling)."""
        parts, count = [], 0
        for seg in self.segments:
            parts.append(self.kept_tokens([seg]))
            count += len(parts[-1])
            if count >= n:
                break
        pool = torch.cat(parts)
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(pool), generator=gen)[:n]
        return pool[idx].float()

    def draw(self, n: int, seed: int) -> Tensor:
        """``n`` kept tokens (float32) drawn uniformly without replacement from the whole split (every kept token
        when there are fewer): each kept token gets a seeded random key, the ``n`` smallest keys win (two passes
        over the segments, the second gathering only the winners). Depends only on ``seed``, never on the batch
        stream, so a resumed run draws the same tokens."""
        keys = []
        for i, seg in enumerate(self.segments):
            acts, tokens = self.read(seg)
            n_kept = int(self.exclusion.keep_mask(acts, tokens).sum())
            keys.append(np.random.default_rng([seed, i]).random(n_kept))
        flat = np.concatenate(keys)
        cutoff = np.partition(flat, n - 1)[n - 1] if len(flat) > n else np.inf
        parts = [
            self.kept_tokens([seg])[torch.from_numpy(k <= cutoff)]
            for seg, k in zip(self.segments, keys, strict=True)
        ]
        return torch.cat(parts).float()

    def batches(self, batch_size: int, seed: int, buffer_tokens: int) -> BatchIterator:
        return BatchIterator(self, batch_size, seed, buffer_tokens)


class BatchIterator(Iterator[Tensor]):
    """Endless float32 batches ``[batch_size, d_in]``, shuffled within windows of at least ``buffer_tokens``.

    Each epoch visits the shards in a seeded random order, grouped into windows; the kept tokens of a window are
    permuted and served in order. Everything random derives from (seed, epoch, window), so the state
    ``{epoch, window, offset}`` restores the exact stream.
    """

    def __init__(self, data: ActivationDataset, batch_size: int, seed: int, buffer_tokens: int) -> None:
        self.data = data
        self.batch_size = batch_size
        self.seed = seed
        self.buffer_tokens = buffer_tokens
        self.epoch, self.window, self.offset = 0, 0, 0
        self._loaded: tuple[int, int] | None = None
        self._pool = torch.empty(0)

    def windows(self, epoch: int) -> list[list[Segment]]:
        """This epoch's windows: segments in a seeded order, grouped to at least ``buffer_tokens`` tokens."""
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.data.segments))
        tokens_per_context = self.data.aset.context_length
        groups: list[list[Segment]] = [[]]
        size = 0
        for i in order:
            if size >= self.buffer_tokens:
                groups.append([])
                size = 0
            seg = self.data.segments[i]
            groups[-1].append(seg)
            size += seg.n_contexts * tokens_per_context
        return groups

    def _window_pool(self) -> Tensor:
        if self._loaded != (self.epoch, self.window):
            pool = self.data.kept_tokens(self.windows(self.epoch)[self.window])
            perm = np.random.default_rng([self.seed, self.epoch, self.window]).permutation(len(pool))
            self._pool = pool[torch.from_numpy(perm)]
            self._loaded = (self.epoch, self.window)
        return self._pool

    def _advance_window(self) -> None:
        self.window, self.offset = self.window + 1, 0
        if self.window >= len(self.windows(self.epoch)):
            self.epoch, self.window = self.epoch + 1, 0
            log.debug("data: starting epoch %d", self.epoch)

    def __next__(self) -> Tensor:
        parts, need = [], self.batch_size
        empty_windows = 0
        while need > 0:
            pool = self._window_pool()
            take = pool[self.offset : self.offset + need]
            parts.append(take)
            need -= len(take)
            self.offset += len(take)
            empty_windows = empty_windows + 1 if len(take) == 0 else 0
            if empty_windows > len(self.data.segments):
                raise ValueError(f"{self.data.aset.path}: no training tokens left after exclusion")
            if self.offset >= len(pool):
                self._advance_window()
        return torch.cat(parts).float()

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "window": self.window, "offset": self.offset, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["seed"] != self.seed:
            raise ValueError(f"data state: seed {state['seed']} does not match this run's seed {self.seed}")
        self.epoch, self.window, self.offset = int(state["epoch"]), int(state["window"]), int(state["offset"])
