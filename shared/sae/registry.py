"""Architecture registry: maps a name (``relu``, ``topk``, ...) to its SAE class; one line per architecture."""

from __future__ import annotations

from shared.sae.base import SAE, SAEConfig
from shared.sae.batchtopk import BatchTopKSAE
from shared.sae.gated import GatedSAE
from shared.sae.jumprelu import JumpReLUSAE
from shared.sae.matryoshka import MatryoshkaBatchTopKSAE
from shared.sae.relu import ReLUSAE
from shared.sae.topk import TopKSAE

ARCHITECTURES: dict[str, type[SAE]] = {
    ReLUSAE.architecture: ReLUSAE,
    TopKSAE.architecture: TopKSAE,
    BatchTopKSAE.architecture: BatchTopKSAE,
    JumpReLUSAE.architecture: JumpReLUSAE,
    MatryoshkaBatchTopKSAE.architecture: MatryoshkaBatchTopKSAE,
    GatedSAE.architecture: GatedSAE,
}
TOPK_LIKE = frozenset({"topk", "batchtopk", "matryoshka_batchtopk"})
"""Architectures whose sparsity is set by ``k`` (and that need it in their config)."""


def get_architecture(name: str) -> type[SAE]:
    """The SAE class registered as ``name``; a clear error lists the known names."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(
            f"unknown SAE architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}"
        ) from None


def create_sae(cfg: SAEConfig) -> SAE:
    """A freshly initialised SAE of ``cfg.architecture``."""
    return get_architecture(cfg.architecture)(cfg)
