"""The ``relu`` architecture: ReLU encoder trained with an L1 penalty (optionally scaled by decoder norm)."""

from __future__ import annotations

import torch
from torch import Tensor

from shared.sae.base import SAE, LossOutput, LossSettings, mse_sum
from shared.sae.sparse import gather_pre_acts, sparse_decode

SPARSE_RATIO = 10
"""Train through the sparse kernels when every token has at most d_sae / SPARSE_RATIO active features."""


class ReLUSAE(SAE):
    """Standard SAE (Anthropic "Towards Monosemanticity", SAELens ``standard``): ``f = ReLU(pre_acts)``."""

    architecture = "relu"

    def encode(self, x: Tensor) -> Tensor:
        return torch.relu(self.pre_acts(x))

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        """Dense while many features fire; once every token has few active features, the same loss and gradients
        via the sparse kernels (the ReLU of the top-m pre-activations, m = the most active features of any token)."""
        pre = self.training_pre_acts(x)
        with torch.no_grad():
            most_active = int((pre > 0).sum(-1).max())
        if most_active * SPARSE_RATIO > self.cfg.d_sae:
            f = torch.relu(pre)
            return self._loss(x, f, self.decode(f), settings, None)
        pre = pre.detach()
        idx = pre.topk(max(most_active, 1), dim=-1, sorted=False).indices
        vals = torch.relu(
            gather_pre_acts(x, self.b_dec, self.W_enc, self.b_enc, idx, pre, self.cfg.apply_b_dec_to_input)
        )
        return self._loss(x, vals, sparse_decode(vals, idx, self.W_dec) + self.b_dec, settings, idx)

    def _loss(
        self, x: Tensor, acts: Tensor, recon: Tensor, settings: LossSettings, idx: Tensor | None
    ) -> LossOutput:
        """``acts`` are dense [B, d_sae], or the values at ``idx`` [B, m] on the sparse path."""
        mse = mse_sum(recon, x)
        l1 = acts.sum(-1).mean()
        sparsity = l1
        if settings.scale_l1_by_decoder_norm:
            norms = self.W_dec.norm(dim=1)
            sparsity = (acts * (norms if idx is None else norms[idx])).sum(-1).mean()
        active = acts.detach() > 0
        counts = active.sum(0) if idx is None else torch.bincount(idx[active], minlength=self.cfg.d_sae)
        return LossOutput(
            loss=mse + settings.l1_coefficient * sparsity,
            mse=mse.detach(),
            sparsity=sparsity.detach(),
            l1=l1.detach(),
            l0=active.sum(-1, dtype=torch.float32).mean(),
            recon=recon.detach(),
            fire_counts=counts,
        )
