"""The ``relu`` architecture: ReLU encoder trained with an L1 penalty (optionally scaled by decoder norm)."""

from __future__ import annotations

import torch
from torch import Tensor

from shared.sae.base import SAE, LossOutput, LossSettings, mse_sum


class ReLUSAE(SAE):
    """Standard SAE (Anthropic "Towards Monosemanticity", SAELens ``standard``): ``f = ReLU(pre_acts)``."""

    architecture = "relu"

    def encode(self, x: Tensor) -> Tensor:
        return torch.relu(self.pre_acts(x))

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        f = self.encode(x)
        recon = self.decode(f)
        mse = mse_sum(recon, x)
        l1 = f.sum(-1).mean()
        weights = self.W_dec.norm(dim=1) if settings.scale_l1_by_decoder_norm else None
        sparsity = l1 if weights is None else (f * weights).sum(-1).mean()
        active = f.detach() > 0
        return LossOutput(
            loss=mse + settings.l1_coefficient * sparsity,
            mse=mse.detach(),
            sparsity=sparsity.detach(),
            l1=l1.detach(),
            l0=active.sum(-1, dtype=torch.float32).mean(),
            recon=recon.detach(),
            fire_counts=active.sum(0),
        )
