"""Co-activation counting of dense SAEs stays bounded in memory and still counts every pair exactly."""

from __future__ import annotations

import torch

from services.analyser import coactivation
from services.analyser.coactivation import CoActivation, _pair_chunks


def test_chunks_cover_whole_rows_within_the_pair_limit():
    rows = torch.repeat_interleave(
        torch.arange(10), torch.tensor([5, 1, 30, 0, 7, 7, 2, 40, 3, 1])[torch.arange(10)]
    )
    chunks = _pair_chunks(rows, limit=100)
    assert chunks[0][0] == 0 and chunks[-1][1] == rows.numel()
    assert all(prev[1] == nxt[0] for prev, nxt in zip(chunks, chunks[1:], strict=False))
    for lo, hi in chunks:
        assert lo == 0 or rows[lo] != rows[lo - 1]  # never splits a token's firings
        _, counts = torch.unique_consecutive(rows[lo:hi], return_counts=True)
        pairs = int((counts * (counts - 1) // 2).sum())
        assert pairs <= 100 or len(counts) == 1  # a single row larger than the limit is its own chunk


def test_dense_firing_counts_match_brute_force_when_chunked(monkeypatch):
    torch.manual_seed(0)
    fire = torch.rand(64, 100) < 0.5  # L0 ~ 50: ~1,200 pairs per token
    rows, feats = fire.nonzero(as_tuple=True)
    monkeypatch.setattr(coactivation, "PAIRS_PER_CHUNK", 1000)
    acc = CoActivation(100, budget=10_000, device="cpu")
    assert len(_pair_chunks(rows)) > 10  # the limit really splits this batch
    acc.update(rows, feats, 64)
    f = fire.float()
    assert torch.equal(acc.dense, (f.T @ f).triu(1).int())
