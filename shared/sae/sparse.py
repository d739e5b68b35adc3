"""Sparse encoder/decoder kernels: gather a few pre-activations per token and decode k rows, with sparse gradients."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor


class _GatherPreActs(torch.autograd.Function):
    """``pre`` at the entries of a selection (``_PerToken`` or ``_Flat``), where ``pre = (x - b_dec) @ W_enc + b_enc``
    was computed without autograd.

    The backward pass only touches the selected columns: ``O(n * d_in)`` for n selected entries instead of a dense
    ``O(B * d_sae * d_in)`` matmul, which is what makes TopK and BatchTopK training cheap on CPU.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x_in: Tensor,
        b_dec: Tensor,
        W_enc: Tensor,
        b_enc: Tensor,
        pre: Tensor,
        sign: float,
        sel: Any,
    ) -> Tensor:
        ctx.save_for_backward(x_in, W_enc)
        ctx.sign, ctx.sel = sign, sel
        return sel.gather(pre)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        x_in, W_enc = ctx.saved_tensors
        sel = ctx.sel
        d_sae = W_enc.shape[1]
        g = g.to(W_enc.dtype)
        grad_x = grad_b_dec = grad_W = grad_b = None
        col_sums = torch.zeros(d_sae, dtype=W_enc.dtype, device=W_enc.device).index_add_(
            0, sel.flat_cols(), g.reshape(-1)
        )
        if ctx.needs_input_grad[3]:
            grad_b = col_sums
        if ctx.needs_input_grad[1]:
            grad_b_dec = -ctx.sign * (W_enc @ col_sums)
        if ctx.needs_input_grad[2]:
            grad_W = sel.outer(x_in, g, d_sae)
        if ctx.needs_input_grad[0]:
            grad_x = sel.decode(g, W_enc.T.contiguous())
        return grad_x, grad_b_dec, grad_W, grad_b, None, None, None


def _gather(
    x: Tensor, b_dec: Tensor, W_enc: Tensor, b_enc: Tensor, pre: Tensor, apply_b_dec: bool, sel: Any
) -> Tensor:
    x_in = x - b_dec.detach() if apply_b_dec else x
    return _GatherPreActs.apply(x_in, b_dec, W_enc, b_enc, pre, 1.0 if apply_b_dec else 0.0, sel)


def _csr(crow: Tensor, cols: Tensor, vals: Tensor, shape: tuple[int, int]) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, cols, vals, shape, check_invariants=False)


def _coo_outer(x: Tensor, rows: Tensor, cols: Tensor, vals: Tensor, d_sae: int) -> Tensor:
    """``x^T @ G`` through a COO ``G^T`` (CUDA: COO sparse @ dense is the well-trodden path)."""
    gt = torch.sparse_coo_tensor(torch.stack([cols, rows]), vals, (d_sae, x.shape[0]), check_invariants=False)
    return torch.sparse.mm(gt, x).T


# ------------------------------------------------------------------------------- per-token selections (TopK)


@dataclass(frozen=True, slots=True, eq=False)
class _PerToken:
    """The same number of entries per token: ``idx [B, m]`` (any order within a row)."""

    idx: Tensor

    def gather(self, pre: Tensor) -> Tensor:
        return pre.gather(1, self.idx)

    def flat_cols(self) -> Tensor:
        return self.idx.reshape(-1)

    def outer(self, x: Tensor, g: Tensor, d_sae: int) -> Tensor:
        """``x^T @ G`` as ``[d_in, d_sae]`` (W_enc's layout) where ``G[b, idx[b, j]] = g[b, j]`` is sparse."""
        batch, m = self.idx.shape
        if x.device.type != "cpu":
            rows = torch.arange(batch, device=self.idx.device).repeat_interleave(m)
            return _coo_outer(x, rows, self.idx.reshape(-1), g.reshape(-1), d_sae)
        cols, order = self.idx.sort(dim=1)
        crow = torch.arange(0, batch * m + 1, m, device=self.idx.device)
        return x.T @ _csr(crow, cols.reshape(-1), g.gather(1, order).reshape(-1), (batch, d_sae))

    def decode(self, vals: Tensor, W_dec: Tensor) -> Tensor:
        return sparse_decode(vals, self.idx, W_dec)


def gather_pre_acts(
    x: Tensor, b_dec: Tensor, W_enc: Tensor, b_enc: Tensor, idx: Tensor, pre: Tensor, apply_b_dec: bool
) -> Tensor:
    """Differentiable ``pre.gather(1, idx)`` for ``pre = (x - b_dec·apply) @ W_enc + b_enc`` (``pre`` precomputed)."""
    return _gather(x, b_dec, W_enc, b_enc, pre, apply_b_dec, _PerToken(idx))


def sparse_decode(vals: Tensor, idx: Tensor, W_dec: Tensor) -> Tensor:
    """``sum_j vals[b, j] * W_dec[idx[b, j]]`` as ``[B, d_in]`` without materialising dense activations."""
    return F.embedding_bag(idx, W_dec, per_sample_weights=vals.to(W_dec.dtype), mode="sum")


# ------------------------------------------------------------------------------- flat (batch-level) selections


@dataclass(frozen=True, slots=True, eq=False)
class _Flat:
    """Any number of entries per token (BatchTopK): ``(rows[j], cols[j])`` in row-major order (as ``nonzero`` gives
    them) with ``crow`` the CSR row pointer, so the backward pass builds the sparse gradient without sorting."""

    rows: Tensor
    cols: Tensor
    crow: Tensor

    def gather(self, pre: Tensor) -> Tensor:
        return pre[self.rows, self.cols]

    def flat_cols(self) -> Tensor:
        return self.cols

    def outer(self, x: Tensor, g: Tensor, d_sae: int) -> Tensor:
        """``x^T @ G`` as ``[d_in, d_sae]`` where ``G[rows[j], cols[j]] = g[j]``."""
        if x.device.type != "cpu":
            return _coo_outer(x, self.rows, self.cols, g, d_sae)
        return x.T @ _csr(self.crow, self.cols, g, (x.shape[0], d_sae))

    def decode(self, vals: Tensor, W_dec: Tensor) -> Tensor:
        return sparse_decode_flat(vals, self.cols, self.crow, W_dec)


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
    return _gather(x, b_dec, W_enc, b_enc, pre, apply_b_dec, _Flat(rows, cols, crow))


def sparse_decode_flat(vals: Tensor, cols: Tensor, crow: Tensor, W_dec: Tensor) -> Tensor:
    """``[B, d_in]``: token b sums ``vals[j] * W_dec[cols[j]]`` over its entries ``crow[b] <= j < crow[b + 1]``."""
    return F.embedding_bag(cols, W_dec, crow[:-1], per_sample_weights=vals.to(W_dec.dtype), mode="sum")
