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


# ------------------------------------------------------------------------------- flat (batch-level) selections


class _GatherFlat(torch.autograd.Function):
    """``pre[rows, cols]`` for a selection of any number of entries per token (BatchTopK), ``pre`` precomputed.

    The entries come in row-major order (as ``nonzero`` gives them) with ``crow`` the CSR row pointer, so the
    backward pass builds the sparse gradient matrix without sorting: ``O(n * d_in)`` for n selected entries.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x_in: Tensor,
        b_dec: Tensor,
        W_enc: Tensor,
        b_enc: Tensor,
        rows: Tensor,
        cols: Tensor,
        crow: Tensor,
        pre: Tensor,
        sign: float,
    ) -> Tensor:
        ctx.save_for_backward(x_in, W_enc, rows, cols, crow)
        ctx.sign = sign
        return pre[rows, cols]

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        x_in, W_enc, rows, cols, crow = ctx.saved_tensors
        d_sae = W_enc.shape[1]
        g = g.to(W_enc.dtype)
        grad_x = grad_b_dec = grad_W = grad_b = None
        col_sums = torch.zeros(d_sae, dtype=W_enc.dtype, device=W_enc.device).index_add_(0, cols, g)
        if ctx.needs_input_grad[3]:
            grad_b = col_sums
        if ctx.needs_input_grad[1]:
            grad_b_dec = -ctx.sign * (W_enc @ col_sums)
        if ctx.needs_input_grad[2]:
            grad_W = _flat_outer(x_in, rows, cols, crow, g, d_sae)
        if ctx.needs_input_grad[0]:
            grad_x = F.embedding_bag(cols, W_enc.T.contiguous(), crow[:-1], per_sample_weights=g, mode="sum")
        return grad_x, grad_b_dec, grad_W, grad_b, None, None, None, None, None


def _flat_outer(x: Tensor, rows: Tensor, cols: Tensor, crow: Tensor, g: Tensor, d_sae: int) -> Tensor:
    """``x^T @ G`` as ``[d_in, d_sae]`` where ``G[rows[j], cols[j]] = g[j]`` (row-major entries)."""
    batch = x.shape[0]
    if x.device.type != "cpu":
        gt = torch.sparse_coo_tensor(torch.stack([cols, rows]), g, (d_sae, batch), check_invariants=False)
        return torch.sparse.mm(gt, x).T
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        sparse = torch.sparse_csr_tensor(crow, cols, g, (batch, d_sae), check_invariants=False)
    return x.T @ sparse


def row_pointer(rows: Tensor, n_rows: int) -> Tensor:
    """CSR row pointer ``[n_rows + 1]`` of row-major entries with row indices ``rows``."""
    counts = torch.bincount(rows, minlength=n_rows)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def gather_pre_acts_flat(
    x: Tensor,
    b_dec: Tensor,
    W_enc: Tensor,
    b_enc: Tensor,
    rows: Tensor,
    cols: Tensor,
    crow: Tensor,
    pre: Tensor,
    apply_b_dec: bool,
) -> Tensor:
    """Differentiable ``pre[rows, cols]`` (``[n]``) for ``pre = (x - b_dec·apply) @ W_enc + b_enc`` (precomputed)."""
    x_in = x - b_dec.detach() if apply_b_dec else x
    sign = 1.0 if apply_b_dec else 0.0
    return _GatherFlat.apply(x_in, b_dec, W_enc, b_enc, rows, cols, crow, pre, sign)


def sparse_decode_flat(vals: Tensor, cols: Tensor, crow: Tensor, W_dec: Tensor) -> Tensor:
    """``[B, d_in]``: token b sums ``vals[j] * W_dec[cols[j]]`` over its entries ``crow[b] <= j < crow[b + 1]``."""
    return F.embedding_bag(cols, W_dec, crow[:-1], per_sample_weights=vals.to(W_dec.dtype), mode="sum")
