"""Sparse autoencoder models (one module per architecture), their registry and their file format."""

from shared.sae.base import SAE, LossOutput, LossSettings, SAEConfig
from shared.sae.batchtopk import BatchTopKSAE
from shared.sae.gated import GatedSAE
from shared.sae.io import SAELoadError, load_sae, save_sae
from shared.sae.jumprelu import JumpReLUSAE
from shared.sae.matryoshka import MatryoshkaBatchTopKSAE
from shared.sae.registry import ARCHITECTURES, TOPK_LIKE, create_sae, get_architecture
from shared.sae.relu import ReLUSAE
from shared.sae.topk import TopKSAE

__all__ = [
    "ARCHITECTURES",
    "SAE",
    "TOPK_LIKE",
    "BatchTopKSAE",
    "GatedSAE",
    "JumpReLUSAE",
    "LossOutput",
    "LossSettings",
    "MatryoshkaBatchTopKSAE",
    "ReLUSAE",
    "SAEConfig",
    "SAELoadError",
    "TopKSAE",
    "create_sae",
    "get_architecture",
    "load_sae",
    "save_sae",
]
