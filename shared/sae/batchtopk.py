"""The ``batchtopk`` architecture (Bussmann et al. 2024): the k x B largest activations of a training batch.

Training keeps the ``k * B`` largest ReLU'd pre-activations of the whole batch (so tokens share a budget of k on
average); a threshold estimated during training makes inference per-token and batch-independent: a JumpReLU with
one threshold shared by every latent (saved per latent as ``threshold``, the name SAELens's JumpReLU uses).
"""

from __future__ import annotations

import torch
from torch import Tensor

from shared.sae.base import SAE
from shared.sae.jumprelu import jump_relu


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
