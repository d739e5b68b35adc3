"""The ``gated`` architecture (Rajamanoharan et al. 2024a): a gate decides which latents fire, a magnitude path
how strongly, sharing the encoder up to a per-latent rescale ``exp(r_mag)``."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from shared.sae.base import SAE


class GatedSAE(SAE):
    """``f = 1[π_gate > 0] ⊙ ReLU(π_mag)`` with ``π_gate = (x - b_dec) W_enc + b_gate`` and
    ``π_mag = (x - b_dec) (W_enc ⊙ exp(r_mag)) + b_mag`` (SAELens's names; there is no ``b_enc``)."""

    architecture = "gated"
    has_b_enc = False
    b_gate: nn.Parameter
    b_mag: nn.Parameter
    r_mag: nn.Parameter

    def add_parameters(self, dtype: torch.dtype) -> None:
        d_sae = self.cfg.d_sae
        self.b_gate = nn.Parameter(torch.zeros(d_sae, dtype=dtype))
        self.b_mag = nn.Parameter(torch.zeros(d_sae, dtype=dtype))
        self.r_mag = nn.Parameter(torch.zeros(d_sae, dtype=dtype))

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        super().reset_parameters(generator)
        for p in (self.b_gate, self.b_mag, self.r_mag):
            p.zero_()

    def pre_acts(self, x: Tensor) -> Tensor:
        """The gate's pre-activations ``π_gate`` (a latent fires where they are positive)."""
        return self.encoder_input(x) @ self.W_enc + self.b_gate

    def gate_and_magnitude(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(π_gate, π_mag)``, from one shared ``(x - b_dec) W_enc`` product."""
        h = self.encoder_input(x) @ self.W_enc
        return h + self.b_gate, h * self.r_mag.exp() + self.b_mag

    def encode(self, x: Tensor) -> Tensor:
        gate, mag = self.gate_and_magnitude(x)
        return torch.relu(mag) * (gate > 0).to(mag.dtype)
