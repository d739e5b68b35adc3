"""The dictionary map: similar decoder directions land together, the layout is deterministic and fills [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services.analyser.projection import project_2d


def _clusters(
    n_clusters: int = 4, per: int = 40, d: int = 24, seed: int = 0
) -> tuple[torch.Tensor, np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_clusters, d, generator=g)
    w = torch.cat([c + 0.15 * torch.randn(per, d, generator=g) for c in centres])
    return w, np.repeat(np.arange(n_clusters), per)


def test_neighbours_in_the_map_share_a_cluster() -> None:
    w, cluster = _clusters()
    xy = project_2d(w, n_neighbours=10, epochs=150, seed=1)
    assert xy.shape == (len(w), 2) and xy.min() == pytest.approx(0) and xy.max() == pytest.approx(1)
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :5]
    same = (cluster[nearest] == cluster[:, None]).mean()
    assert same > 0.95, same
    # and clusters are apart: mean within-cluster distance well under the mean between-cluster one
    within = d[cluster[:, None] == cluster[None, :]]
    between = d[cluster[:, None] != cluster[None, :]]
    assert np.median(within[np.isfinite(within)]) < 0.25 * np.median(between)


def test_the_layout_is_deterministic_for_a_seed() -> None:
    w, _ = _clusters(seed=3)
    assert np.array_equal(project_2d(w, epochs=20, seed=5), project_2d(w, epochs=20, seed=5))


def test_tiny_and_bad_inputs() -> None:
    assert project_2d(torch.randn(2, 8)).tolist() == [[0.5, 0.5], [0.5, 0.5]]
    with pytest.raises(ValueError, match="epochs >= 0"):
        project_2d(torch.randn(10, 8), epochs=-1)
