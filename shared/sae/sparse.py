"""Sparse encoder/decoder kernels: gather a few pre-activations per token and decode k rows, with sparse gradients."""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor


class _GatherPreActs(torch.autograd.Function):
    """``pre[b, idx[b, j]]`` where ``pre = (x - b_dec) @ W_enc + b_enc`` was computed without autograd.

    The backward pass only touches the selected columns: ``O(B * m * d_in)`` instead of a dense
    ``O(B * d_sae * d_in)`` matmul, which is what makes TopK training cheap on CPU.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x_in: Tensor,
        b_dec: Tensor,
        W_enc: Tensor,
        b_enc: Tensor,
        idx: Tensor,
        pre: Tensor,
        sign: float,
    ) -> Tensor:
        ctx.save_for_backward(x_in, W_enc, idx)
        ctx.sign = sign
        return pre.gather(1, idx)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        x_in, W_enc, idx = ctx.saved_tensors
        d_sae = W_enc.shape[1]
        flat_idx, flat_g = idx.reshape(-1), g.reshape(-1).to(W_enc.dtype)
        grad_x = grad_b_dec = grad_W = grad_b = None
        col_sums = torch.zeros(d_sae, dtype=W_enc.dtype, device=W_enc.device).index_add_(0, flat_idx, flat_g)
        if ctx.needs_input_grad[3]:
            grad_b = col_sums
        if ctx.needs_input_grad[1]:
            grad_b_dec = -ctx.sign * (W_enc @ col_sums)
        if ctx.needs_input_grad[2]:
            grad_W = _sparse_outer(x_in, idx, g.to(W_enc.dtype), d_sae)
        if ctx.needs_input_grad[0]:
            grad_x = F.embedding_bag(
                idx, W_enc.T.contiguous(), per_sample_weights=g.to(W_enc.dtype), mode="sum"
            )
        return grad_x, grad_b_dec, grad_W, grad_b, None, None, None


def _sparse_outer(x: Tensor, idx: Tensor, g: Tensor, d_sae: int) -> Tensor:
    """``x^T @ G`` as ``[d_in, d_sae]`` (W_enc's layout) where ``G[b, idx[b, j]] = g[b, j]`` is sparse."""
    batch, m = idx.shape
    if x.device.type != "cpu":  # CUDA: COO sparse @ dense is the well-trodden path
        rows = torch.arange(batch, device=idx.device).repeat_interleave(m)
        gt = torch.sparse_coo_tensor(
            torch.stack([idx.reshape(-1), rows]), g.reshape(-1), (d_sae, batch), check_invariants=False
        )
        return torch.sparse.mm(gt, x).T
    cols, order = idx.sort(dim=1)
    crow = torch.arange(0, batch * m + 1, m, device=idx.device)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        sparse = torch.sparse_csr_tensor(
            crow, cols.reshape(-1), g.gather(1, order).reshape(-1), (batch, d_sae), check_invariants=False
        )
    return x.T @ sparse


def gather_pre_acts(
    x: Tensor, b_dec: Tensor, W_enc: Tensor, b_enc: Tensor, idx: Tensor, pre: Tensor, apply_b_dec: bool
) -> Tensor:
    """Differentiable ``pre.gather(1, idx)`` for ``pre = (x - b_dec·apply) @ W_enc + b_enc`` (``pre`` precomputed)."""
    x_in = x - b_dec.detach() if apply_b_dec else x
    return _GatherPreActs.apply(x_in, b_dec, W_enc, b_enc, idx, pre, 1.0 if apply_b_dec else 0.0)


def sparse_decode(vals: Tensor, idx: Tensor, W_dec: Tensor) -> Tensor:
    """``sum_j vals[b, j] * W_dec[idx[b, j]]`` as ``[B, d_in]`` without materialising dense activations."""
    return F.embedding_bag(idx, W_dec, per_sample_weights=vals.to(W_dec.dtype), mode="sum")
