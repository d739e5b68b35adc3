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
