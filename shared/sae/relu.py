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
        f = torch.relu(pre)
        with torch.no_grad():
            per_token = torch.count_nonzero(f, dim=-1)
            most_active = int(per_token.max())
        norms = self.W_dec.norm(dim=1) if settings.scale_l1_by_decoder_norm else None
        if most_active * SPARSE_RATIO > self.cfg.d_sae:
            col_sums = f.sum(0)  # L1 terms from column sums: no [B, d_sae] product for the norm weighting
            l1 = col_sums.sum() / len(x)
            sparsity = l1 if norms is None else (col_sums * norms).sum() / len(x)
            recon, counts = self.decode(f), torch.count_nonzero(f.detach(), dim=0)
        else:
            pre = pre.detach()
            idx = pre.topk(max(most_active, 1), dim=-1, sorted=False).indices
            apply = self.cfg.apply_b_dec_to_input
            vals = torch.relu(gather_pre_acts(x, self.b_dec, self.W_enc, self.b_enc, idx, pre, apply))
            l1 = vals.sum() / len(x)
            sparsity = l1 if norms is None else (vals * norms[idx]).sum() / len(x)
            recon = sparse_decode(vals, idx, self.W_dec) + self.b_dec
            counts = torch.bincount(idx[vals.detach() > 0], minlength=self.cfg.d_sae)
        mse = mse_sum(recon, x)
        return LossOutput(
            loss=mse + settings.l1_coefficient * sparsity,
            mse=mse.detach(),
            sparsity=sparsity.detach(),
            l1=l1.detach(),
            l0=per_token.float().mean(),
            recon=recon.detach(),
            fire_counts=counts,
        )
