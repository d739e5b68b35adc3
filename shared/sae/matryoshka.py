"""The ``matryoshka_batchtopk`` architecture (Bussmann et al. 2025; Nabeshima 2025): nested BatchTopK dictionaries.

The latents are ordered; with prefix widths ``w_1 < ... < w_M = d_sae`` every prefix ``[0, w_j)`` decodes the
input on its own (with ``b_dec``), and the loss is the *sum* of the M reconstruction errors plus BatchTopK's AuxK
(on the full dictionary's residual), as in the paper and SAELens. Early prefixes learn general features; later
ones refine them, which reduces feature absorption.
"""

from __future__ import annotations

from torch import Tensor

from shared.sae.base import LossOutput, LossSettings, mse_sum
from shared.sae.batchtopk import BatchTopKSAE
from shared.sae.topk import auxk_loss


class MatryoshkaBatchTopKSAE(BatchTopKSAE):
    """A BatchTopK SAE whose latents are ordered: every prefix ``[0, w)`` of the dictionary is trained to reconstruct
    on its own. Inference is BatchTopK's (the threshold JumpReLU); the prefixes matter only to the training loss."""

    architecture = "matryoshka_batchtopk"

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        """``Σ_j |x - (f_{<w_j} W_dec[:w_j] + b_dec)|² + α AuxK`` over the prefix widths of ``settings``."""
        widths = settings.matryoshka_widths or (self.cfg.d_sae,)
        if widths[-1] != self.cfg.d_sae or list(widths) != sorted(set(widths)):
            raise ValueError(
                f"matryoshka_widths: {list(widths)} must increase strictly and end at d_sae ({self.cfg.d_sae})"
            )
        codes, pre = self.batch_codes(x)
        total = x.new_zeros(())
        for width in widths:
            recon = codes.decode(self.W_dec, None if width == self.cfg.d_sae else width) + self.b_dec
            mse = mse_sum(recon, x)
            total = total + mse
        aux = auxk_loss(self, x, recon.detach(), pre, settings)  # recon, mse: the full dictionary's
        return self.loss_output(total + settings.aux_k_coefficient * aux, mse, aux, codes, recon)
