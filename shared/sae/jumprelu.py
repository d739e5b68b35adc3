"""The ``jumprelu`` architecture (Rajamanoharan et al. 2024, Gemma Scope): a learned threshold per latent."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from shared.sae.base import SAE


def jump_relu(pre: Tensor, threshold: Tensor) -> Tensor:
    """``JumpReLU_θ(z) = z · H(z - θ)`` (ReLU'd first, as SAELens does, so a negative θ passes no negative z)."""
    return torch.relu(pre) * (pre > threshold).to(pre.dtype)


class JumpReLUSAE(SAE):
    """``f = JumpReLU_θ(pre_acts)``: a latent is active only above its own threshold ``θ_i`` (``threshold``)."""

    architecture = "jumprelu"
    threshold: nn.Parameter

    def add_parameters(self, dtype: torch.dtype) -> None:
        self.threshold = nn.Parameter(torch.zeros(self.cfg.d_sae, dtype=dtype))

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        super().reset_parameters(generator)
        self.threshold.zero_()

    def encode(self, x: Tensor) -> Tensor:
        return jump_relu(self.pre_acts(x), self.threshold)
