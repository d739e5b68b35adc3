"""Torch device selection, one rule for every stage: ``auto`` means CUDA when present, else CPU."""

from __future__ import annotations

import torch

from shared.config import ConfigError


def resolve_device(device: str | torch.device) -> torch.device:
    """The torch device a ``device`` config key names; asking for CUDA without it is an error naming the key."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device: {str(device)!r} requested but CUDA is not available (use auto or cpu)")
    return resolved


def fast_bf16(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 matrix products natively (faster than float32): a CUDA GPU that supports
    bfloat16, or a CPU with AVX512-BF16 or AMX tiles. Elsewhere (e.g. an AVX2-only CPU) bfloat16 autocast is
    emulated and several times slower than float32 (bench/README.md, "Demo levers")."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return False
