"""SAE file format: ``sae.safetensors`` + ``cfg.json`` (SAELens-compatible names); loads SAELens directories too."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from shared.config import TOPK_LIKE
from shared.sae.base import SAE, SAEConfig
from shared.sae.registry import ARCHITECTURES, create_sae

FORMAT = "saelab-sae/1"
WEIGHTS_FILE = "sae.safetensors"
CONFIG_FILE = "cfg.json"
SAELENS_WEIGHTS_FILE = "sae_weights.safetensors"
SAELENS_ONLY = {"scaling_factor", "log_threshold"}
"""Tensors SAELens may write that fold into ours: a finetuning scale (into W_dec), a log-threshold (exp -> threshold)."""
_RUNTIME_NORMS = {"none", "expected_average_only_in"}  # SAELens applies neither at inference


class SAELoadError(ValueError):
    """An SAE directory could not be loaded; the message names the file and the problem."""


# -------------------------------------------------------------------------------------------------------- save


def config_to_json(cfg: SAEConfig) -> dict[str, Any]:
    """``cfg.json`` content: our keys plus the SAELens names that have an equivalent."""
    data = cfg.to_dict()
    extra = data.pop("extra")
    layer = re.match(r"blocks\.(\d+)\.", cfg.hook_name)
    data.update(
        format=FORMAT,
        hook_layer=int(layer.group(1)) if layer else None,
        hook_head_index=None,
        activation_fn_str=cfg.architecture,
        activation_fn_kwargs={"k": cfg.k} if cfg.k is not None else {},
        finetuning_scaling_factor=False,
        dataset_path=cfg.activations_path,
        saelab=extra,
    )
    return data


def save_sae(sae: SAE, directory: str | Path) -> Path:
    """Write ``sae.safetensors`` (every parameter and buffer of the architecture: W_enc, b_enc, W_dec, b_dec, and
    e.g. ``threshold``, ``b_gate``/``b_mag``/``r_mag``) and ``cfg.json`` into ``directory`` (atomically); returns it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in sae.state_dict().items()}
    tmp = directory / f".{WEIGHTS_FILE}.tmp"
    save_file(tensors, str(tmp), metadata={"format": FORMAT})
    os.replace(tmp, directory / WEIGHTS_FILE)
    tmp = directory / f".{CONFIG_FILE}.tmp"
    tmp.write_text(json.dumps(config_to_json(sae.cfg), indent=2))
    os.replace(tmp, directory / CONFIG_FILE)
    return directory


# -------------------------------------------------------------------------------------------------------- load


def config_from_json(data: dict[str, Any], source: str = CONFIG_FILE) -> SAEConfig:
    """Read our ``cfg.json`` or a SAELens one (v3-v6 layouts) into an SAEConfig."""
    meta = data.get("metadata") or {}

    def get(key: str, default: Any = None) -> Any:
        return data.get(key, meta.get(key, default))

    for key in ("d_in", "d_sae"):
        if not isinstance(data.get(key), int):
            raise SAELoadError(f"{source}: {key}: missing or not an integer")
    architecture, k = _architecture(data, source)
    norm = data.get("normalize_activations") or "none"
    if norm not in _RUNTIME_NORMS:
        raise SAELoadError(
            f"{source}: normalize_activations: {norm!r} is not supported ({sorted(_RUNTIME_NORMS)})"
        )
    if data.get("rescale_acts_by_decoder_norm"):
        raise SAELoadError(f"{source}: rescale_acts_by_decoder_norm: true is not supported")
    return SAEConfig(
        architecture=architecture,
        d_in=data["d_in"],
        d_sae=data["d_sae"],
        k=k,
        hook_name=get("hook_name", ""),
        model_name=get("model_name", ""),
        model_gguf_file=get("model_gguf_file"),
        context_size=get("context_size"),
        prepend_bos=bool(get("prepend_bos", True)),
        normalize_activations=norm,
        apply_b_dec_to_input=bool(data.get("apply_b_dec_to_input", True)),
        dtype=str(data.get("dtype") or "float32").removeprefix("torch."),
        activations_path=data.get("activations_path", get("dataset_path")),
        extra=dict(data.get("saelab") or {}),
    )


def _architecture(data: dict[str, Any], source: str) -> tuple[str, int | None]:
    arch = data.get("architecture", "standard")
    fn = data.get("activation_fn_str", data.get("activation_fn")) or "relu"
    kwargs = data.get("activation_fn_kwargs") or {}
    if arch == "standard":
        arch = {"relu": "relu", "topk": "topk"}.get(fn, fn)
    if arch not in ARCHITECTURES:
        raise SAELoadError(
            f"{source}: architecture: {arch!r} is not supported "
            f"({', '.join(sorted(ARCHITECTURES))}, SAELens standard)"
        )
    if arch not in TOPK_LIKE:
        return arch, None
    k = data.get("k") or kwargs.get("k")
    if not isinstance(k, int):
        raise SAELoadError(f"{source}: k: a {arch} SAE needs an integer k (or activation_fn_kwargs.k)")
    return arch, k


def load_sae(directory: str | Path, device: str | torch.device = "cpu") -> SAE:
    """Load an SAE saved by ``save_sae`` or by SAELens (``cfg.json`` + ``sae_weights.safetensors``)."""
    directory = Path(directory)
    cfg_path = directory / CONFIG_FILE
    if not cfg_path.is_file():
        raise SAELoadError(f"{cfg_path}: not found (an SAE directory holds cfg.json and sae.safetensors)")
    try:
        data = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as err:
        raise SAELoadError(f"{cfg_path}: not valid JSON: {err}") from None
    try:
        cfg = config_from_json(data, str(cfg_path))
    except ValueError as err:
        raise SAELoadError(str(err)) from None
    weights = _weights_path(directory)
    sae = create_sae(cfg)
    expected = {name: tuple(t.shape) for name, t in sae.state_dict().items()}
    sae.load_state_dict(_read_weights(weights, cfg, expected))
    return sae.to(device)


def _weights_path(directory: Path) -> Path:
    for name in (WEIGHTS_FILE, SAELENS_WEIGHTS_FILE):
        if (directory / name).is_file():
            return directory / name
    found = sorted(p.name for p in directory.iterdir())
    raise SAELoadError(f"{directory}: no {WEIGHTS_FILE} or {SAELENS_WEIGHTS_FILE} (found: {found})")


def _read_weights(
    path: Path, cfg: SAEConfig, expected: dict[str, tuple[int, ...]]
) -> dict[str, torch.Tensor]:
    """The tensors of ``path`` checked against the architecture's ``expected`` names and shapes."""
    tensors = load_file(str(path))
    if "log_threshold" in tensors and "threshold" not in tensors:  # older SAELens JumpReLU checkpoints
        tensors["threshold"] = tensors["log_threshold"].exp()
    missing = [p for p in expected if p not in tensors]
    unknown = sorted(set(tensors) - set(expected) - SAELENS_ONLY)
    if missing or unknown:
        raise SAELoadError(
            f"{path}: a {cfg.architecture} SAE needs {sorted(expected)}; "
            f"missing tensors {missing}, unsupported tensors {unknown}"
        )
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise SAELoadError(
                f"{path}: {name} has shape {tuple(tensors[name].shape)}, cfg.json says {shape}"
            )
    dtype = getattr(torch, cfg.dtype)
    out = {name: tensors[name].to(dtype) for name in expected}
    if "scaling_factor" in tensors:  # SAELens finetuning scale multiplies the activations before decoding
        out["W_dec"] = out["W_dec"] * tensors["scaling_factor"].to(dtype)[:, None]
    return out
