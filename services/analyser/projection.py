"""A 2-D map of the dictionary: decoder directions laid out so that similar directions land close together.

UMAP-style, in torch and without new dependencies: the ``n_neighbours`` nearest decoder directions by cosine form
a graph, a PCA of the unit directions gives the start, then ``epochs`` rounds of force updates pull each feature
towards its neighbours (attraction ``2 / (1 + d^2)``) and push it from as many random features (repulsion
``2 / ((eps + d^2)(1 + d^2))``), with forces clipped and a learning rate decaying to zero (UMAP's a = b = 1
curve). Deterministic for a seed. Coordinates are scaled into [0, 1] on both axes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .geometry import decoder_neighbours

CLIP = 4.0
"""Largest per-axis force per edge (UMAP clips gradients the same way)."""
EPS = 1e-3


def pca_2d(w: Tensor) -> Tensor:
    """The first two principal components of the unit rows, each scaled to standard deviation 1."""
    u = torch.nn.functional.normalize(w.float(), dim=1)
    centred = u - u.mean(dim=0)
    if centred.shape[1] < 2 or centred.shape[0] < 3:
        return torch.zeros((u.shape[0], 2), device=u.device)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    y = centred @ v[:2].T
    return y / y.std(dim=0).clamp_min(1e-12)


def _forces(y: Tensor, head: Tensor, tail: Tensor, attract: bool) -> Tensor:
    diff = y[head] - y[tail]
    d2 = (diff * diff).sum(dim=1, keepdim=True)
    coeff = -2.0 / (1.0 + d2) if attract else 2.0 / ((EPS + d2) * (1.0 + d2))
    return (coeff * diff).clamp(-CLIP, CLIP)


@torch.no_grad()
def project_2d(
    w_dec: Tensor,
    n_neighbours: int = 15,
    epochs: int = 200,
    negatives: int = 5,
    seed: int = 0,
    neighbours: Tensor | None = None,
) -> np.ndarray:
    """``[n, 2]`` map coordinates in [0, 1] of the rows of ``w_dec`` (decoder directions, one per feature).

    ``neighbours`` (``[n, k]`` indices by decoder cosine, as ``decoder_neighbours`` gives) skips the search."""
    if epochs < 0 or n_neighbours < 1 or negatives < 0:
        raise ValueError(
            f"project_2d: need epochs >= 0, n_neighbours >= 1, negatives >= 0 (got {epochs}, {n_neighbours}, {negatives})"
        )
    n = w_dec.shape[0]
    if n < 3:
        return np.full((n, 2), 0.5)
    device = w_dec.device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    y = pca_2d(w_dec) * 10.0
    nbrs = neighbours if neighbours is not None else decoder_neighbours(w_dec, n_neighbours)[0]
    head = torch.arange(n, device=device).repeat_interleave(nbrs.shape[1])
    tail = nbrs.reshape(-1)
    for epoch in range(epochs):
        lr = 1.0 - epoch / epochs
        step = torch.zeros_like(y)
        step.index_add_(0, head, _forces(y, head, tail, attract=True))
        step.index_add_(0, tail, -_forces(y, head, tail, attract=True))
        if negatives:
            neg_head = head.repeat(negatives)
            neg_tail = torch.randint(0, n, (len(neg_head),), generator=gen).to(device)
            step.index_add_(0, neg_head, _forces(y, neg_head, neg_tail, attract=False))
        y += lr * step / nbrs.shape[1]
    lo, hi = y.min(dim=0).values, y.max(dim=0).values
    return ((y - lo) / (hi - lo).clamp_min(1e-12)).cpu().numpy().astype(np.float64)
