"""The streaming statistics agree with a brute-force dense computation on random sparse activations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.configs import tiny_pass_settings

from services.analyser.accumulate import FeaturePass
from services.analyser.examples import BINS_PER_BUCKET
from services.analyser.slots import SlotTopM

N_CTX, T, D_SAE, VOCAB = 24, 10, 12, 30


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    acts = torch.rand((N_CTX, T, D_SAE), generator=gen) * 3
    acts[torch.rand(acts.shape, generator=gen) < 0.8] = 0  # ~20% density
    acts[:, :, 5] = 0  # a dead feature
    tokens = torch.randint(0, VOCAB, (N_CTX, T), generator=gen)
    return acts, tokens


def _run(acts: torch.Tensor, tokens: torch.Tensor, batch_ctx: int, exclude_first: bool = True) -> FeaturePass:
    settings = tiny_pass_settings(D_SAE, top_k=4, quantile_samples=2)
    fp = FeaturePass(settings, "cpu")
    keep = torch.ones((N_CTX, T), dtype=torch.bool)
    keep[:, 0] = not exclude_first
    for start in range(0, N_CTX, batch_ctx):
        sl = slice(start, start + batch_ctx)
        fp.update(acts[sl], tokens[sl], torch.arange(N_CTX)[sl], keep=keep[sl])
    return fp


@pytest.mark.parametrize("batch_ctx", [1, 5, N_CTX])
def test_counts_sums_and_max_match_dense(data, batch_ctx: int) -> None:
    acts, tokens = data
    fp = _run(acts, tokens, batch_ctx)
    body = acts[:, 1:, :].reshape(-1, D_SAE)
    assert fp.stats.n_tokens == N_CTX * (T - 1)
    assert torch.equal(fp.stats.count, (body > 0).sum(0))
    assert torch.allclose(fp.stats.total.float(), body.sum(0), atol=1e-4)
    assert torch.equal(fp.stats.max, body.max(0).values)
    assert fp.stats.hist is not None
    assert torch.equal(fp.stats.hist.sum(1), fp.stats.count)


@pytest.mark.parametrize("batch_ctx", [1, 7])
def test_top_k_is_the_per_context_max_top_k(data, batch_ctx: int) -> None:
    acts, tokens = data
    fp = _run(acts, tokens, batch_ctx)
    masked = acts.clone()
    masked[:, 0, :] = 0
    ctx_max, ctx_pos = masked.max(dim=1)  # [N_CTX, D_SAE]
    for f in range(D_SAE):
        vals = ctx_max[:, f]
        n_live = int((vals > 0).sum())
        want_vals, want_ctx = vals.topk(min(4, n_live))
        got = fp.top.slots.values[f]
        got_ctx = fp.top.slots.payload["context"][f]
        assert torch.equal(got[: len(want_vals)], want_vals)
        assert torch.equal(got_ctx[: len(want_vals)], want_ctx)
        assert not torch.isfinite(got[len(want_vals) :]).any()
        for j, c in enumerate(want_ctx.tolist()):
            p = int(ctx_pos[c, f])
            assert int(fp.top.slots.payload["position"][f, j]) == p
            window = fp.top.slots.payload["acts"][f, j]
            for o, a in zip(range(-2, 2), window.tolist(), strict=False):
                want = float(acts[c, p + o, f]) if 0 <= p + o < T else 0.0
                assert a == pytest.approx(want)


def test_quantile_samples_are_real_firings_in_their_bucket(data) -> None:
    acts, tokens = data
    fp = _run(acts, tokens, 4)
    q = fp.quantiles
    assert q is not None
    filled = q.slots.filled()
    assert filled.any()
    for slot, j in filled.nonzero().tolist():
        f, bucket = divmod(slot, q.n_buckets)
        c = int(q.slots.payload["context"][slot, j])
        p = int(q.slots.payload["position"][slot, j])
        value = float(q.slots.payload["value"][slot, j])
        assert p != 0 and value == pytest.approx(float(acts[c, p, f]))
        lo, hi = q.bucket_range(bucket)
        first, last = bucket == 0, bucket == q.n_buckets - 1
        assert (first or value >= lo) and (last or value < hi)
    # every bucket holds min(its firings, samples per bucket) samples
    assert fp.stats.hist is not None
    per_bucket = fp.stats.hist.view(D_SAE, q.n_buckets, BINS_PER_BUCKET).sum(-1)
    assert torch.equal(filled.sum(1).view(D_SAE, q.n_buckets), per_bucket.clamp(max=2))


def test_token_table_matches_dense(data) -> None:
    acts, tokens = data
    fp = _run(acts, tokens, 5)
    table = fp.tokens.table()
    held = (torch.arange(N_CTX) % 3 == 2)[:, None].expand(N_CTX, T - 1).reshape(-1)
    toks = tokens[:, 1:].reshape(-1)
    body = acts[:, 1:, :].reshape(-1, D_SAE)
    for t, f, s, fl, fh in zip(
        table.token, table.feature, table.sums, table.fires_label, table.fires_heldout, strict=False
    ):
        on = toks == int(t)
        assert s == pytest.approx(float(body[on, f].sum()), rel=1e-5)
        assert fl == int((body[on & ~held, f] > 0).sum())
        assert fh == int((body[on & held, f] > 0).sum())
    assert table.count_label.sum() + table.count_heldout.sum() == N_CTX * (T - 1)
    assert table.count_heldout.sum() == int(held.sum())
    assert len(table.token) == int(
        ((body > 0).float().T @ torch.nn.functional.one_hot(toks, VOCAB).float() > 0).sum()
    )


def test_coactivation_jaccard_matches_dense(data) -> None:
    acts, tokens = data
    fp = _run(acts, tokens, 6)
    fired = (acts[:, 1:, :].reshape(-1, D_SAE) > 0).float()
    both = fired.T @ fired
    n = both.diag()
    jac = both / (n[:, None] + n[None, :] - both).clamp(min=1)
    nbrs = fp.coact.neighbours(3)
    assert 5 not in nbrs  # dead feature has no co-firing
    for f, lst in nbrs.items():
        row = jac[f].clone()
        row[f] = -1
        assert [round(s, 5) for _, s in lst] == [round(float(v), 5) for v in row.topk(len(lst)).values]
        for g, s in lst:
            assert s == pytest.approx(float(jac[f, g]))


def test_slot_top_m_keeps_payload_aligned() -> None:
    gen = torch.Generator().manual_seed(1)
    slots = SlotTopM(3, 2, {"id": ((), torch.long)}, "cpu")
    all_vals, all_slots = [], []
    for b in range(5):
        s = torch.randint(0, 3, (8,), generator=gen)
        v = torch.rand(8, generator=gen)
        ids = torch.arange(8) + 8 * b
        slots.offer(s, v, lambda i, ids=ids: {"id": ids[i]})
        all_vals.append(v)
        all_slots.append(s)
    v, s = torch.cat(all_vals), torch.cat(all_slots)
    for k in range(3):
        want_v, want_i = v.masked_fill(s != k, -1).topk(2)
        assert torch.equal(slots.values[k], want_v)
        assert torch.equal(slots.payload["id"][k], want_i)


def test_dead_feature_has_nothing(data) -> None:
    acts, tokens = data
    fp = _run(acts, tokens, 5)
    assert int(fp.stats.count[5]) == 0
    assert not fp.top.slots.filled()[5].any()
    assert np.all(fp.tokens.table().feature != 5)


def test_topk_firings_give_the_same_statistics_as_a_dense_scan(data) -> None:
    acts, tokens = data
    k = 4
    vals, idx = acts.topk(k, dim=-1)
    sparse_acts = torch.zeros_like(acts).scatter_(-1, idx, vals)
    settings = tiny_pass_settings(D_SAE, top_k=3, quantile_samples=2)
    dense, sparse = FeaturePass(settings, "cpu"), FeaturePass(settings, "cpu")
    keep = torch.ones((N_CTX, T), dtype=torch.bool)
    keep[:, 0] = False
    for start in range(0, N_CTX, 6):
        sl = slice(start, start + 6)
        ctx = torch.arange(N_CTX)[sl]
        dense.update(sparse_acts[sl], tokens[sl], ctx, keep=keep[sl])
        sparse.update(sparse_acts[sl], tokens[sl], ctx, topk=(vals[sl], idx[sl]), keep=keep[sl])
    assert torch.equal(dense.stats.count, sparse.stats.count)
    assert torch.equal(dense.stats.hist, sparse.stats.hist)
    assert torch.equal(dense.top.slots.values, sparse.top.slots.values)
    assert torch.equal(dense.top.slots.payload["acts"], sparse.top.slots.payload["acts"])
    assert dense.coact.neighbours(3) == sparse.coact.neighbours(3)
