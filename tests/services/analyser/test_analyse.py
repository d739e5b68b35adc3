"""Analysis finds planted ground truth: a " cat" feature, its decoder twin, a dead feature (tiny, CPU)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from services.analyser.analyse import analyse_run, open_activations, run_pass
from services.analyser.results import FILES, Results, load_results
from shared.config import AnalyseConfig
from shared.features import ExampleRecord
from shared.sae import create_sae, load_sae, save_sae
from shared.search import search

TOP_K = 5


def _config(planted) -> AnalyseConfig:
    return AnalyseConfig(
        run=str(planted.run_dir), batch_tokens=256, top_k=TOP_K, device="cpu", n_neighbours=3
    )


@pytest.fixture(scope="module")
def results(planted) -> Results:
    out = analyse_run(_config(planted))
    assert out == planted.run_dir / "results"
    return load_results(out)


def _examples(results: Results, feature: int, kind: str = "top") -> list[ExampleRecord]:
    return [e for e in results.examples if e.feature == feature and e.kind == kind]


def test_cat_feature_top_examples_are_centred_on_cat(results: Results, planted) -> None:
    tops = _examples(results, planted.F)
    n_cat_contexts = int((planted.tokens[:, 1:] == planted.cat).any(axis=1).sum())
    assert len(tops) == min(TOP_K, n_cat_contexts)
    for ex in tops:
        assert ex.tokens[ex.max_position] == " cat"
        assert ex.token_ids[ex.max_position] == planted.cat
        assert ex.max_activation == max(ex.activations) > 0
        assert planted.tokens[ex.context, ex.position] == planted.cat
    assert [e.rank for e in tops] == list(range(len(tops)))
    assert [e.max_activation for e in tops] == sorted((e.max_activation for e in tops), reverse=True)


def test_cat_feature_density_label_and_grade(results: Results, planted) -> None:
    rec = results.features[planted.F]
    kept = planted.tokens != planted.tokens[0, 0]  # BOS (= EOS for GPT-2) left out at every position
    assert (~kept[:, 1:]).any(), "the planted contexts hold document separators mid-context"
    body = planted.tokens[kept]
    assert rec.n_active == int((body == planted.cat).sum())
    assert rec.density == pytest.approx((body == planted.cat).mean(), rel=1e-12)
    assert rec.label is not None and "cat" in rec.label
    assert rec.grade == "High" and rec.label_score == pytest.approx(1.0)
    scores = {s.name: s for s in rec.label_scores}
    every = _config(planted).heldout_every
    held = np.arange(len(planted.tokens)) % every == every - 1
    held_cats = int((planted.tokens[held][kept[held]] == planted.cat).sum())
    # one token that always fires: every sample is the held-out cats
    assert scores["F1"].n == scores["recall"].n == held_cats == scores["precision"].n
    assert scores["F1"].value == pytest.approx(1.0) and scores["F1"].ci_low < 1.0 == scores["F1"].ci_high
    assert rec.label_method == "offline token-list labeller" and rec.label_model is None
    assert rec.top_tokens[0].token == " cat" and rec.top_tokens[0].value == pytest.approx(1.0)
    assert results.summary.n_tokens == body.size


def test_twin_is_first_decoder_neighbour(results: Results, planted) -> None:
    first = results.features[planted.F].decoder_neighbours[0]
    assert first.index == planted.G and first.score == pytest.approx(1.0, abs=1e-5)
    # ... and among its three nearest points on the dictionary map (16 random directions: chance is 3 in 14)
    xy = np.array([(f.map_x, f.map_y) for f in results.features])
    assert ((xy >= 0) & (xy <= 1)).all()
    dist = ((xy - xy[planted.F]) ** 2).sum(axis=1)
    dist[planted.F] = np.inf
    assert planted.G in np.argsort(dist)[:3].tolist()
    assert all(n.index != planted.F for n in results.features[planted.F].decoder_neighbours)


def test_token_index_lists_cat_feature_first(results: Results, planted) -> None:
    row = next(r for r in results.token_index if r.token_id == planted.cat)
    assert row.token == " cat"
    assert row.count == int((planted.tokens[:, 1:] == planted.cat).sum())
    assert row.features[0].index == planted.F and row.features[0].fire_fraction == pytest.approx(1.0)


def test_search_finds_cat_feature_first(results: Results, planted) -> None:
    hits = search(results.features, "cat", limit=5, examples=results.examples)
    assert hits and hits[0].index == planted.F
    assert "cat" in hits[0].snippet.lower()


def test_dead_feature(results: Results, planted) -> None:
    rec = results.features[planted.DEAD]
    assert rec.dead and rec.density == 0 and rec.log10_density is None and rec.n_active == 0
    assert rec.label is None and rec.grade is None
    assert not [e for e in results.examples if e.feature == planted.DEAD]
    assert results.summary.n_dead >= 1
    assert results.summary.n_alive + results.summary.n_dead == len(results.features) == results.summary.d_sae


def test_top_examples_match_brute_force(results: Results, planted) -> None:
    sae = load_sae(planted.run_dir)
    with torch.no_grad():
        full = sae.encode(torch.from_numpy(planted.acts)).numpy()
    acts = full.copy()
    acts[planted.tokens == planted.tokens[0, 0], :] = (
        0  # BOS/EOS left out of the statistics (shown in windows)
    )
    ctx_max, ctx_pos = acts.max(axis=1), acts.argmax(axis=1)
    for f in range(acts.shape[2]):
        order = np.argsort(-ctx_max[:, f], kind="stable")
        order = order[ctx_max[order, f] > 0][:TOP_K]
        got = _examples(results, f)
        assert [e.context for e in got] == order.tolist()
        assert [e.position for e in got] == ctx_pos[order, f].tolist()
        np.testing.assert_allclose([e.max_activation for e in got], ctx_max[order, f], rtol=1e-5)
        for e in got:
            lo = e.position - e.max_position
            assert lo == max(0, e.position - 12)
            want = full[e.context, lo : lo + len(e.activations), f]
            np.testing.assert_allclose(e.activations, want, rtol=1e-5, atol=1e-6)
        rec = results.features[f]
        assert rec.n_active == int((acts[..., f] > 0).sum())
        assert rec.max_activation == pytest.approx(float(acts[..., f].max()), rel=1e-6)
        assert sum(rec.histogram.counts) == rec.n_active


def test_quantile_samples_lie_in_their_bins(results: Results) -> None:
    qs = [e for e in results.examples if e.kind == "quantile"]
    assert qs
    for e in qs:
        assert e.bin is not None and e.bin_range is not None
        lo, hi = e.bin_range
        assert lo <= e.max_activation < hi
        assert e.activations[e.max_position] == e.max_activation


def test_rerun_replaces_results(results: Results, planted) -> None:
    out = analyse_run(_config(planted))
    again = load_results(out)
    assert len(again.features) == len(results.features)
    assert len(again.examples) == len(results.examples)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    assert [p.name for p in planted.run_dir.iterdir() if p.name.startswith(".")] == []


def test_n_tokens_limits_the_pass_to_whole_contexts(planted) -> None:
    sae = load_sae(planted.run_dir)
    dataset = open_activations(planted.run_dir, sae)
    T = dataset.context_length
    seen: list[tuple[float, float]] = []
    cfg = AnalyseConfig(run=str(planted.run_dir), n_tokens=5 * T + 3, batch_tokens=2 * T, device="cpu")
    fp = run_pass(sae, dataset, cfg, torch.device("cpu"), progress=lambda d, t, m="": seen.append((d, t)))
    kept = int((planted.tokens[:5] != planted.tokens[0, 0]).sum())  # every BOS/EOS position left out
    assert fp.n_contexts == 5 and fp.stats.n_tokens == kept
    assert seen[-1] == (5 * T, 5 * T) and len(seen) == 3


def _as_architecture(arch: str, relu_sae):  # noqa: ANN001, ANN202
    """The planted SAE's weights under ``arch``, with thresholds/gates that make it fire differently from ReLU."""
    cfg = relu_sae.cfg
    sae = create_sae(replace(cfg, architecture=arch, k=2 if arch.endswith("batchtopk") else None))
    with torch.no_grad():
        for name in ("W_enc", "W_dec", "b_dec"):
            getattr(sae, name).copy_(getattr(relu_sae, name))
        if arch == "gated":
            sae.b_gate.copy_(relu_sae.b_enc - 1.0)  # the gate closes on the weakest firings
            sae.b_mag.copy_(relu_sae.b_enc)
            sae.r_mag.fill_(0.2)
        else:
            sae.b_enc.copy_(relu_sae.b_enc)
            sae.threshold.fill_(1.0)
    return sae


@pytest.mark.parametrize("arch", ["batchtopk", "jumprelu", "matryoshka_batchtopk", "gated"])
def test_every_architecture_analyses_like_its_encoder(planted, tmp_path, arch) -> None:
    """Analysis reads each architecture through its own encoder: counts and top examples equal brute force."""
    run = tmp_path / "run"
    shutil.copytree(planted.run_dir, run)
    relu = load_sae(planted.run_dir)
    save_sae(_as_architecture(arch, relu), run)
    out = load_results(
        analyse_run(AnalyseConfig(run=str(run), batch_tokens=256, top_k=TOP_K, device="cpu", n_neighbours=3))
    )
    assert out.summary.architecture == arch
    with torch.no_grad():
        acts = load_sae(run).encode(torch.from_numpy(planted.acts)).numpy()
        dense_relu = relu.encode(torch.from_numpy(planted.acts)).numpy()
    body = acts[:, 1:]
    assert (body > 0).sum() < (dense_relu[:, 1:] > 0).sum(), "the threshold or gate removes some firings"
    for f in range(acts.shape[2]):
        rec = out.features[f]
        assert rec.n_active == int((body[..., f] > 0).sum())
        if rec.n_active:
            assert rec.max_activation == pytest.approx(float(body[..., f].max()), rel=1e-6)
        ctx_max = body[..., f].max(axis=1)
        order = np.argsort(-ctx_max, kind="stable")
        order = order[ctx_max[order] > 0][:TOP_K]
        assert [e.context for e in out.examples if e.feature == f and e.kind == "top"] == order.tolist()
