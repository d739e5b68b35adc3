"""Histogram regrouping and the results directory's format checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from services.analyser.results import ResultsError, load_results
from services.analyser.stats import LogGrid, RunningStats


def test_histogram_counts_every_firing_in_a_bin_that_contains_it() -> None:
    gen = torch.Generator().manual_seed(0)
    values = torch.cat([torch.rand(500, generator=gen) * 10 + 1e-3, torch.tensor([1e-9, 1e6])])
    stats = RunningStats(d_sae=2, device="cpu")
    stats.update(torch.zeros(len(values), dtype=torch.long), values, n_tokens=1000)
    h = stats.histogram(0, max_bins=8)
    assert len(h.counts) <= 8 and len(h.edges) == len(h.counts) + 1
    assert sum(h.counts) == len(values)
    assert all(a < b for a, b in zip(h.edges, h.edges[1:], strict=False))
    bins = np.searchsorted(np.array(h.edges), values.numpy(), side="right") - 1
    assert np.array_equal(np.bincount(bins, minlength=len(h.counts)), np.array(h.counts))
    assert h.zero_fraction == pytest.approx(1 - len(values) / 1000)
    dead = stats.histogram(1, max_bins=8)
    assert dead.counts == [] and dead.zero_fraction == 1.0


def test_log_grid_rejects_a_bad_anchor() -> None:
    with pytest.raises(ValueError, match="anchor"):
        LogGrid.around(0.0)


def test_loading_refuses_missing_or_foreign_results(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="missing"):
        load_results(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(ResultsError, match="format 'other/9'"):
        load_results(tmp_path)


def test_jsonl_rows_round_trip_and_non_finite_values_are_refused(tmp_path: Path) -> None:
    from services.analyser.results import _write_jsonl

    rows = [
        {
            "feature": 1,
            "tokens": [" cat", "é"],
            "activations": [0.0, 1.25],
            "max_activation": np.float32(1.25),
        }
    ]
    assert _write_jsonl(tmp_path / "ok.jsonl", rows) == 1
    back = json.loads((tmp_path / "ok.jsonl").read_text(encoding="utf-8"))
    assert back == {"feature": 1, "tokens": [" cat", "é"], "activations": [0.0, 1.25], "max_activation": 1.25}
    for bad in ({"max_activation": float("nan")}, {"activations": [0.5, float("inf")]}):
        with pytest.raises(ValueError, match="not a finite number"):
            _write_jsonl(tmp_path / "bad.jsonl", [{"feature": 2, **bad}])
