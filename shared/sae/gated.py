"""The ``gated`` architecture (Rajamanoharan et al. 2024a): a gate decides which latents fire, a magnitude path
how strongly, sharing the encoder up to a per-latent rescale ``exp(r_mag)``.

The Heaviside gate passes no gradient, so the gate path learns from two terms: an L1 penalty on ``ReLU(π_gate)``
and an auxiliary loss, the reconstruction of ``x`` from ``ReLU(π_gate)`` through a *frozen* copy of the decoder
(``W_dec`` and ``b_dec`` get no gradient from it), exactly as the paper's loss.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from shared.sae.base import SAE, LossOutput, LossSettings, mse_sum


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

    # ---------------------------------------------------------------------------------------------- training

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        """``|x - x̂(f)|² + λ Σ_i ReLU(π_gate)_i |d_i| + |x - x̂_frozen(ReLU(π_gate))|²``.

        ``|d_i|`` (the decoder row norms, no gradient) is 1 under the default unit-norm decoder, so this is the
        paper's plain L1; with ``scale_l1_by_decoder_norm`` (no norm constraint) it is the norm-weighted penalty
        with the decoder frozen there too, one of the two consistent variants the authors give."""
        shift = self.b_dec @ self.W_enc if self.cfg.apply_b_dec_to_input else None
        h = x @ self.W_enc if shift is None else torch.addmm(-shift, x, self.W_enc)  # (x - b_dec) W_enc
        gate = h + self.b_gate
        f = torch.relu(h * self.r_mag.exp() + self.b_mag) * (gate > 0).to(h.dtype)
        recon = self.decode(f)
        mse = mse_sum(recon, x)
        gate_act = torch.relu(gate)
        sparsity = (gate_act * self.W_dec.norm(dim=1).detach()).sum(-1).mean()
        aux_recon = torch.addmm(self.b_dec.detach(), gate_act, self.W_dec.detach())
        aux = mse_sum(aux_recon, x)
        return LossOutput.of_dense(mse + settings.l1_coefficient * sparsity + aux, mse, sparsity, f, recon)
