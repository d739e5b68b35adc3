"""The ``matryoshka_batchtopk`` architecture (Bussmann et al. 2025; Nabeshima 2025): nested BatchTopK dictionaries."""

from __future__ import annotations

from shared.sae.batchtopk import BatchTopKSAE


class MatryoshkaBatchTopKSAE(BatchTopKSAE):
    """A BatchTopK SAE whose latents are ordered: every prefix ``[0, w)`` of the dictionary is trained to reconstruct
    on its own. Inference is BatchTopK's (the threshold JumpReLU); the prefixes matter only to the training loss."""

    architecture = "matryoshka_batchtopk"
