"""SAELens ``cfg.json`` contents for tests: the SAELens 6 layout (model and hook under ``metadata``)."""

from __future__ import annotations

from typing import Any

V6_METADATA = {
    "model_name": "gpt2-small",
    "hook_name": "blocks.6.hook_resid_pre",
    "sae_lens_version": "6.5.0",
}


def saelens_v6_cfg(
    architecture: str, d_in: int, d_sae: int, metadata: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A SAELens 6 cfg of ``architecture`` (float32 on CPU, no normalisation or reshaping, ``metadata`` or
    ``V6_METADATA``), with ``extra`` keys added or overriding."""
    return {
        "architecture": architecture,
        "d_in": d_in,
        "d_sae": d_sae,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": dict(metadata or V6_METADATA),
    } | extra
