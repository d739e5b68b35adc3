"""bench/quality.py's own path (our side only, no peer venv, no LM) on a tiny synthetic activation set."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from bench import quality
from shared.shards import write_activation_set

TINY = quality.Plan(
    collect_tokens=0, eval_fraction=0.25, budget=24_576, batch=256, d_sae=64, k=4, lr=3e-3, ce_contexts=0,
    bisect_steps=6, l0_tolerance=0.25,
)  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> quality.Data:
    """Sparse codes (3 of 48 directions per token, d_in 16) at a raw scale of ~50: learnable to a high EV."""
    root = tmp_path_factory.mktemp("quality")
    rng = np.random.default_rng(0)
    n, t, d, atoms = 64, 32, 16, 48
    dictionary = rng.normal(size=(atoms, d))
    codes = np.zeros((n * t, atoms))
    for row in codes:
        row[rng.choice(atoms, 3, replace=False)] = rng.uniform(1, 3, 3)
    acts = (50 * codes @ dictionary).reshape(n, t, d).astype(np.float32)
    tokens = rng.integers(5, 1000, size=(n, t)).astype(np.int64)
    aset = write_activation_set(
        root / "acts", acts, tokens, shard_contexts=32, model="tiny", hook=quality.DATA_HOOK, layer=15,
        hook_kind="resid_pre", seed=0,
    )  # fmt: skip
    return quality.prepare_data(root, TINY, aset.path, out_dir=root)


def test_training_array_is_scaled_and_held_out_tokens_stay_raw(data: quality.Data) -> None:
    train = quality.load_matrix(data.train_path)
    assert train.norm(dim=1).mean() == pytest.approx(4.0, rel=1e-3)  # sqrt(d_in 16)
    assert data.n_train == len(train) == 48 * 31  # the training contexts less their BOS position
    raw = np.concatenate([data.aset.read_shard(i)[0][:, 1:] for i in (0, 1)])[:48].reshape(-1, 16)
    assert data.scale == pytest.approx(4.0 / float(np.linalg.norm(raw, axis=1).mean()), rel=1e-4)


def test_topk_and_matched_relu_evaluated_on_raw_held_out_tokens(data: quality.Data) -> None:
    rows = quality.compare(TINY, data, None, ["topk", "relu"], ["ours"], with_ce=False)
    topk, relu = rows
    assert topk["ours"]["n_tokens"] == 16 * 31 == topk["heldout_tokens"]
    assert topk["ours"]["l0"] == pytest.approx(4.0)
    assert (
        topk["ours"]["explained_variance"] > 0.6
    )  # only if the training scale is folded back for raw inputs
    assert topk["training_tokens"] == TINY.budget
    trials = relu["ours_l1_trials"]
    assert abs(relu["ours"]["l0"] - TINY.k) <= TINY.l0_tolerance * TINY.k, trials
    assert len(trials) >= 2  # the default coefficient misses: the bisection moved it
    by_coefficient = sorted(trials, key=lambda t: t["l1_coefficient"])
    assert [t["l0"] for t in by_coefficient] == sorted((t["l0"] for t in trials), reverse=True)


def test_evaluator_is_our_evaluation_code(data: quality.Data) -> None:
    """The reported EV equals a direct computation on the held-out kept tokens."""
    sae, _, _ = quality.train_side("ours", replace(quality.Spec("t", "topk", 64, 4, 256, 8)), data,
                                quality.load_matrix(data.train_path), Path("."))  # fmt: skip
    got = quality.Evaluator(data, TINY, with_ce=False)(sae, with_ce=False)
    acts, _ = data.aset.read_shard(data.held[0].shard)
    x = torch.from_numpy(acts[data.held[0].start : data.held[0].stop, 1:].reshape(-1, 16)).double()
    with torch.no_grad():
        recon = sae(x.float()).double()
    direct = 1 - (x - recon).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    assert got["explained_variance"] == pytest.approx(float(direct), abs=1e-6)


def test_next_coefficient_solves_a_power_law_and_stays_inside_the_bracket() -> None:
    """L0 = 400 c^-1.5: the log-log secant lands on the exact coefficient; a far target is clamped to the middle
    80 % of the bracket (log scale), never at or past its ends."""

    def l0(c: float) -> float:
        return 400 * c**-1.5

    target = 32.0
    exact = (400 / target) ** (1 / 1.5)
    got = quality.next_coefficient((1.0, l0(1.0)), (64.0, l0(64.0)), target)
    assert got == pytest.approx(exact, rel=1e-9)
    clamped = quality.next_coefficient((1.0, l0(1.0)), (64.0, l0(64.0)), 399.0)  # just under the lo end
    assert clamped == pytest.approx(64.0**0.1, rel=1e-9)


def test_concurrent_sides_give_the_sequential_figures(data: quality.Data) -> None:
    """--concurrent only changes when each side runs: the same trainings, the same metrics."""
    plan = replace(TINY, budget=4096)
    one = quality.compare(plan, data, None, ["topk"], ["ours"], with_ce=False)[0]
    both = quality.compare(plan, data, None, ["topk"], ["ours"], with_ce=False, concurrent=True)[0]
    for key in ("explained_variance", "l0", "dead_fraction", "dense_fraction"):
        assert both["ours"][key] == one["ours"][key], key
    assert (one["sides_ran"], both["sides_ran"]) == ("one after the other", "concurrently")


def test_search_step_brackets_then_interpolates() -> None:
    """One trial: x2 / 2 towards the target; same side twice: log-log extrapolation; bracketed: regula falsi
    between the closest trials on either side (L0 = 400 c^-1.5 gives the exact coefficient)."""

    def trial(c: float) -> dict:
        return {"l1_coefficient": c, "l0": 400 * c**-1.5}

    exact = (400 / 32) ** (1 / 1.5)
    assert quality.search_step([trial(1.0)], 32.0) == 2.0  # L0 400 > 32: a larger coefficient
    assert quality.search_step([trial(64.0)], 32.0) == 32.0  # L0 0.78 < 32: a smaller one
    assert quality.search_step([trial(1.0), trial(2.0)], 32.0) == pytest.approx(exact)
    flat = [{"l1_coefficient": 1.0, "l0": 400.0}, {"l1_coefficient": 2.0, "l0": 380.0}]
    assert quality.search_step(flat, 32.0) == pytest.approx(8.0)  # a flat curve: at most x4 from the nearest
    bracketed = [trial(0.5), trial(1.0), trial(16.0), trial(64.0)]
    assert quality.search_step(bracketed, 32.0) == pytest.approx(exact)
    kinked = [(0.5, 1000.0), (1.0, 100.0), (16.0, 10.0), (64.0, 1.0)]  # the closest pair is the one used
    got = quality.search_step([{"l1_coefficient": c, "l0": l0} for c, l0 in kinked], 32.0)
    assert got == pytest.approx(16 ** (math.log(100 / 32) / math.log(10)))


def test_interpolated_ev_reads_the_curve_at_the_target_l0() -> None:
    trials = [
        {"l1_coefficient": 3, "l0": 64.0, "ev": 0.8},
        {"l1_coefficient": 6, "l0": 16.0, "ev": 0.6},
        {"l1_coefficient": 12, "l0": 4.0, "ev": 0.3},
    ]
    assert quality.interpolated_ev(trials, 32.0) == pytest.approx(0.7)  # halfway in log L0 between 16 and 64
    assert quality.interpolated_ev(trials[:1], 32.0) is None  # not bracketed


def test_batchtopk_is_also_read_at_l0_k_exactly(data: quality.Data) -> None:
    """BatchTopK rows carry two readings at L0 = k: training mode (batch top-k over batches of the held-out
    tokens) and the inference function at the one threshold that gives L0 = k on them, which equals our
    evaluation of the same SAE with its threshold moved there."""
    plan = replace(TINY, budget=4096)
    train = quality.load_matrix(data.train_path)
    spec = quality.Spec("b", "batchtopk", plan.d_sae, plan.k, plan.batch, 16)
    sae, _, _ = quality.train_side("ours", spec, data, train, Path("."))
    evaluate = quality.Evaluator(data, plan, with_ce=False)
    x = evaluate.held_raw
    train_mode = quality.batch_topk_reading(sae, x, plan.k, plan.batch)
    matched = quality.batch_topk_reading(sae, x, plan.k, None)
    assert train_mode["l0"] == matched["l0"] == pytest.approx(plan.k, abs=1e-9)
    with torch.no_grad():
        pre = torch.relu(sae.pre_acts(x)).flatten()
        sae.threshold.fill_(float(pre.sort(descending=True).values[plan.k * len(x)]))  # the (kN+1)-th largest
    moved = evaluate(sae, with_ce=False)
    assert moved["l0"] == pytest.approx(plan.k)
    assert matched["explained_variance"] == pytest.approx(moved["explained_variance"], abs=1e-6)
    assert train_mode["explained_variance"] != matched["explained_variance"]  # per batch, not one threshold
    row = quality.compare(plan, data, None, ["batchtopk"], ["ours"], with_ce=False)[0]
    assert row["ours"]["train_mode_l0"] == pytest.approx(plan.k)
    assert row["ours"]["matched_threshold_l0"] == pytest.approx(plan.k)
