"""Training data: held-out split, BOS/massive-norm exclusion, shuffling, exact iterator state, RAM caching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from support.activations import write_resid_set

from services.trainer.data import ActivationDataset, split_segments
from shared.shards import ActivationSet

BOS = 7
N_CTX, T = 20, 8


def tagged_set(path: Path, massive: tuple[tuple[int, int], ...] = ((3, 5), (12, 2))) -> ActivationSet:
    """acts[c, t] = (c, t, 1, ...): every token says where it came from; planted massive-norm tokens."""
    acts = np.ones((N_CTX, T, 4), dtype=np.float32)
    acts[..., 0] = np.arange(N_CTX)[:, None]
    acts[..., 1] = np.arange(T)[None, :]
    acts[:, 0, 2] = 500.0  # BOS: massive norm too, like real models
    for c, t in massive:
        acts[c, t, 3] = 1000.0
    tokens = np.full((N_CTX, T), 11, dtype=np.int32)
    tokens[:, 0] = BOS
    tokens[5, 4] = BOS  # a document separator inside a context
    return write_resid_set(path, acts, tokens, 6, model="m", layer=0, bos_token_id=BOS, complete=True)


def where(batch: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(c), int(t)) for c, t in batch[:, :2].tolist()}


def test_last_contexts_are_held_out(tmp_path: Path):
    aset = tagged_set(tmp_path)
    train, held = split_segments(aset, 0.25)
    assert sum(s.n_contexts for s in train) == 15 and sum(s.n_contexts for s in held) == 5
    data = ActivationDataset(aset, train)
    seen = set()
    batches = data.batches(16, seed=0, buffer_tokens=32)
    for _ in range(40):
        seen |= where(next(batches))
    assert max(c for c, _ in seen) == 14
    held_tokens = ActivationDataset(aset, held).kept_tokens(held)
    assert {c for c, _ in where(held_tokens)} == set(range(15, 20))


def test_bos_and_massive_norm_tokens_are_excluded_and_everything_else_kept(tmp_path: Path):
    aset = tagged_set(tmp_path)
    data = ActivationDataset(aset, split_segments(aset, 0.0)[0], exclude_bos=True, exclude_norm_multiple=10.0)
    epoch = where(data.kept_tokens(data.segments))
    expected = {(c, t) for c in range(N_CTX) for t in range(1, T)} - {(3, 5), (12, 2), (5, 4)}
    assert epoch == expected


def test_exclusions_can_be_switched_off(tmp_path: Path):
    aset = tagged_set(tmp_path)
    segs = split_segments(aset, 0.0)[0]
    data = ActivationDataset(aset, segs, exclude_bos=False, exclude_norm_multiple=None)
    assert len(data.kept_tokens(segs)) == N_CTX * T
    only_norm = ActivationDataset(aset, segs, exclude_bos=False, exclude_norm_multiple=10.0)
    kept = where(only_norm.kept_tokens(segs))
    assert (
        (3, 5) not in kept and (0, 0) not in kept and (5, 4) in kept
    )  # BOS at 0 is massive, the separator not


def test_one_epoch_visits_every_kept_token_once_in_shuffled_order(tmp_path: Path):
    aset = tagged_set(tmp_path)
    data = ActivationDataset(aset, split_segments(aset, 0.0)[0])
    n = len(data.kept_tokens(data.segments))
    batches = data.batches(n, seed=3, buffer_tokens=64)
    epoch = next(batches)
    assert len(where(epoch)) == n
    contexts = epoch[:32, 0]
    assert len(set(contexts.tolist())) > 4, "consecutive tokens should come from many contexts"
    steps = (contexts[1:] - contexts[:-1]).abs()
    assert float((steps == 0).float().mean()) < 0.5


def test_iterator_state_restores_the_exact_stream_across_epochs(tmp_path: Path):
    aset = tagged_set(tmp_path)
    data = ActivationDataset(aset, split_segments(aset, 0.1)[0])
    it = data.batches(23, seed=5, buffer_tokens=40)
    for _ in range(9):
        next(it)
    state = it.state_dict()
    expected = [next(it) for _ in range(12)]  # crosses an epoch boundary (~120 tokens per epoch)
    assert it.epoch >= 1
    fresh = ActivationDataset(aset, split_segments(aset, 0.1)[0], cache_in_ram=False).batches(23, 5, 40)
    fresh.load_state_dict(state)
    for want in expected:
        assert torch.equal(next(fresh), want)


def test_epochs_differ_and_seeds_differ(tmp_path: Path):
    aset = tagged_set(tmp_path)
    data = ActivationDataset(aset, split_segments(aset, 0.0)[0])
    n = len(data.kept_tokens(data.segments))
    a = data.batches(n, seed=1, buffer_tokens=1000)
    first, second = next(a), next(a)
    assert not torch.equal(first, second) and where(first) == where(second)
    assert not torch.equal(first, next(data.batches(n, seed=2, buffer_tokens=1000)))


def test_cache_in_ram_reads_each_shard_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    aset = tagged_set(tmp_path)
    calls: list[int] = []
    real = aset.read_shard
    monkeypatch.setattr(aset, "read_shard", lambda i, dtype=None: calls.append(i) or real(i, dtype))
    data = ActivationDataset(aset, split_segments(aset, 0.0)[0], cache_in_ram=True)
    batches = data.batches(50, seed=0, buffer_tokens=30)
    for _ in range(10):
        next(batches)
    assert sorted(calls) == list(range(aset.n_shards))


def test_a_split_without_training_contexts_is_an_error(tmp_path: Path):
    aset = tagged_set(tmp_path)
    with pytest.raises(ValueError, match="eval_fraction"):
        split_segments(aset, 0.99)
