"""The ``jumprelu`` architecture (Rajamanoharan et al. 2024, Gemma Scope): a learned threshold per latent.

Training goes through the jump with the paper's straight-through estimators: the step function ``H(z - θ)`` gets
the pseudo-derivative ``∂/∂θ = -(1/ε) K((z - θ)/ε)`` and JumpReLU ``∂/∂θ = -(θ/ε) K((z - θ)/ε)``, with ``K`` the
rectangle kernel ``1[|u| < 1/2]`` and ``ε`` the bandwidth; the gradient with respect to ``z`` is the ordinary one
(``H(z - θ)`` for JumpReLU, none through the step function: DeepMind's choice, SAELens's default).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from shared.sae.base import SAE, LossOutput, LossSettings, mse_sum


def jump_relu(pre: Tensor, threshold: Tensor) -> Tensor:
    """``JumpReLU_θ(z) = z · H(z - θ)`` (ReLU'd first, as SAELens does, so a negative θ passes no negative z)."""
    return torch.relu(pre) * (pre > threshold).to(pre.dtype)


def rectangle(u: Tensor) -> Tensor:
    """The rectangle kernel ``K(u) = 1[-1/2 < u < 1/2]``."""
    return ((u > -0.5) & (u < 0.5)).to(u.dtype)


class _JumpReLU(torch.autograd.Function):
    """``z · H(z - θ)``; backward ``∂/∂z = H(z - θ)``, ``∂/∂θ = -(θ/ε) K((z - θ)/ε)`` summed over tokens."""

    @staticmethod
    def forward(ctx: Any, z: Tensor, threshold: Tensor, bandwidth: float) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(z, threshold)
        ctx.bandwidth = bandwidth
        return jump_relu(z, threshold)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        z, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_z = g * ((z > threshold) & (z > 0)).to(g.dtype)
        kernel = rectangle((z - threshold) / eps) * g
        grad_threshold = -(threshold / eps) * kernel.reshape(-1, z.shape[-1]).sum(0)
        return grad_z, grad_threshold, None


class _Step(torch.autograd.Function):
    """``H(z - θ)``; backward ``∂/∂θ = -(1/ε) K((z - θ)/ε)`` summed over tokens, nothing to ``z``."""

    @staticmethod
    def forward(ctx: Any, z: Tensor, threshold: Tensor, bandwidth: float) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(z, threshold)
        ctx.bandwidth = bandwidth
        return (z > threshold).to(z.dtype)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        z, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        kernel = rectangle((z - threshold) / eps) * g
        return None, -(1.0 / eps) * kernel.reshape(-1, z.shape[-1]).sum(0), None


class JumpReLUSAE(SAE):
    """``f = JumpReLU_θ(pre_acts)``: a latent is active only above its own threshold ``θ_i`` (``threshold``)."""

    architecture = "jumprelu"
    uses_dead_mask = True  # the optional pre-activation loss reads it
    threshold: nn.Parameter

    def add_parameters(self, dtype: torch.dtype) -> None:
        self.threshold = nn.Parameter(torch.zeros(self.cfg.d_sae, dtype=dtype))

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        super().reset_parameters(generator)
        self.threshold.zero_()

    def encode(self, x: Tensor) -> Tensor:
        return jump_relu(self.pre_acts(x), self.threshold)

    # ---------------------------------------------------------------------------------------------- training

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        """``|x - x̂|² + λ S + c_pre P`` with S = ``Σ_i H(z_i - θ_i)`` (``step``) or ``Σ_i tanh(c f_i |d_i|)``
        (``tanh``) and P Anthropic's pre-activation loss on dead latents (when its coefficient is set)."""
        pre = self.training_pre_acts(x)
        eps = settings.jumprelu_bandwidth
        f = _JumpReLU.apply(pre, self.threshold, eps)
        recon = self.decode(f)
        mse = mse_sum(recon, x)
        if settings.jumprelu_sparsity_loss == "tanh":
            scaled = settings.jumprelu_tanh_scale * f * self.W_dec.norm(dim=1)
            sparsity = torch.tanh(scaled).sum(-1).mean()
        else:
            sparsity = _Step.apply(pre, self.threshold, eps).sum(-1).mean()
        loss = mse + settings.l0_coefficient * sparsity
        dead = settings.dead_mask
        if settings.pre_act_loss_coefficient > 0 and dead is not None and bool(dead.any()):
            below = torch.relu(self.threshold - pre) * dead * self.W_dec.norm(dim=1)
            loss = loss + settings.pre_act_loss_coefficient * below.sum(-1).mean()
        return LossOutput.of_dense(loss, mse, sparsity, f, recon)

    @torch.no_grad()
    def init_training(self, settings: LossSettings) -> None:
        self.threshold.fill_(settings.jumprelu_init_threshold)

    @torch.no_grad()
    def after_step(self, out: LossOutput, settings: LossSettings) -> None:
        """Project the thresholds back to ``θ >= 0`` (the paper keeps them positive by training ``log θ``)."""
        self.threshold.clamp_(min=0.0)
