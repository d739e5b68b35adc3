"""The ``batchtopk`` architecture (Bussmann et al. 2024): the k x B largest activations of a training batch.

Training keeps the ``k * B`` largest ReLU'd pre-activations of the whole batch (so tokens share a budget of k on
average); a threshold estimated during training makes inference per-token and batch-independent: a JumpReLU with
one threshold shared by every latent (saved per latent as ``threshold``, the name SAELens's JumpReLU uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from shared.sae.base import SAE, LossOutput, LossSettings, mse_sum
from shared.sae.jumprelu import jump_relu
from shared.sae.sparse import gather_pre_acts_flat, row_pointer, sparse_decode_flat
from shared.sae.topk import auxk_loss


def batch_topk(pre: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """``(rows, cols)`` of the ``n`` largest positive entries of ``pre [B, d_sae]`` over the whole batch, in
    row-major order: exactly n (fewer only when fewer are positive); ties at the n-th value go to the first
    entries in row-major order, which matters in bfloat16, where values tie often."""
    flat = pre.reshape(-1)
    n = min(n, flat.numel())
    if flat.is_cuda:  # CUDA's kthvalue selects within one block per slice: slow on one huge slice
        nth = flat.topk(n, sorted=False).values.min()
    else:  # on CPU selection beats topk's heap
        nth = flat.kthvalue(flat.numel() - n + 1).values
    chosen = (pre > nth) & (pre > 0)
    if nth > 0:
        ties = (pre == nth).reshape(-1).nonzero().flatten()
        chosen.view(-1)[ties[: n - int(chosen.sum())]] = True
    rows, cols = chosen.nonzero(as_tuple=True)
    return rows, cols


@dataclass
class Codes:
    """A batch's kept activations as CSR entries: token b owns entries ``crow[b] <= j < crow[b + 1]``."""

    vals: Tensor
    """[n] activation values (differentiable)."""
    cols: Tensor
    """[n] their latents."""
    crow: Tensor
    """[B + 1] row pointer."""

    def decode(self, W_dec: Tensor, width: int | None = None) -> Tensor:
        """``[B, d_in]`` = the codes times ``W_dec`` (no bias), only latents below ``width`` when given."""
        vals = self.vals if width is None else self.vals * (self.cols < width).to(self.vals.dtype)
        return sparse_decode_flat(vals, self.cols, self.crow, W_dec)


class BatchTopKSAE(SAE):
    """Inference: ``f = JumpReLU_θ(pre_acts)`` with the training-time threshold estimate ``θ`` (``threshold``)."""

    architecture = "batchtopk"
    uses_dead_mask = True
    threshold: Tensor

    def add_parameters(self, dtype: torch.dtype) -> None:
        self.register_buffer("threshold", torch.zeros(self.cfg.d_sae, dtype=dtype))

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        super().reset_parameters(generator)
        self.threshold.zero_()

    @property
    def k(self) -> int:
        assert self.cfg.k is not None, f"{self.architecture} SAE without k"
        return self.cfg.k

    def encode(self, x: Tensor) -> Tensor:
        return jump_relu(self.pre_acts(x), self.threshold)

    # ---------------------------------------------------------------------------------------------- training

    def batch_codes(self, x: Tensor) -> tuple[Codes, Tensor]:
        """The batch's training codes and its pre-activations (no gradient)."""
        with torch.no_grad():
            pre = self.pre_acts(x)
            rows, cols = batch_topk(pre, self.k * len(x))
            crow = row_pointer(rows, len(x))
        apply = self.cfg.apply_b_dec_to_input
        pre_kept = gather_pre_acts_flat(x, self.b_dec, self.W_enc, self.b_enc, rows, cols, crow, pre, apply)
        return Codes(torch.relu(pre_kept), cols, crow), pre

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        """``|x - x̂|² + α AuxK`` with x̂ decoded from the batch's top k x B activations."""
        codes, pre = self.batch_codes(x)
        recon = codes.decode(self.W_dec) + self.b_dec
        mse = mse_sum(recon, x)
        aux = auxk_loss(self, x, recon.detach(), pre, settings)
        return self.loss_output(mse + settings.aux_k_coefficient * aux, mse, aux, codes, recon)

    def loss_output(self, loss: Tensor, mse: Tensor, aux: Tensor, codes: Codes, recon: Tensor) -> LossOutput:
        vals = codes.vals.detach()
        active = vals > 0
        n_tokens = len(recon)
        return LossOutput(
            loss=loss,
            mse=mse.detach(),
            sparsity=aux.detach(),
            l1=vals.sum() / n_tokens,
            l0=active.sum(dtype=torch.float32) / n_tokens,
            recon=recon.detach(),
            fire_counts=torch.bincount(codes.cols[active], minlength=self.cfg.d_sae),
            min_active=vals[active].min() if bool(active.any()) else None,
        )

    @torch.no_grad()
    def after_step(self, out: LossOutput, settings: LossSettings) -> None:
        """θ ← the first batch's smallest kept activation, then θ ← (1 - r) θ + r · that of each batch
        (r = ``topk_threshold_lr``): the running estimate the paper uses at inference."""
        if out.min_active is None:
            return
        sample = out.min_active.to(self.threshold.dtype)
        if settings.step == 0:
            self.threshold.fill_(float(sample))
        else:
            self.threshold.lerp_(sample.expand_as(self.threshold), settings.topk_threshold_lr)
