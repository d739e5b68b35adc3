"""saelab's SAE file format: ``sae.safetensors`` + ``cfg.json`` (SAELens's key names); SAELens folders load too."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from shared.sae.base import SAE, SAEConfig, cast_to_state, first_wrong_shape, state_mismatch
from shared.sae.registry import create_sae

FORMAT = "saelab-sae/1"
WEIGHTS_FILE = "sae.safetensors"
CONFIG_FILE = "cfg.json"
SAELENS_WEIGHTS_FILE = "sae_weights.safetensors"


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
    """Write ``sae.safetensors`` and ``cfg.json`` into ``directory`` (each file atomically); returns it."""
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
    """Read our ``cfg.json`` into an SAEConfig (SAELens cfgs go through ``shared.sae.saelens``)."""
    for key in ("d_in", "d_sae"):
        if not isinstance(data.get(key), int):
            raise SAELoadError(f"{source}: {key}: missing or not an integer")
    fields = {f.name for f in dataclasses.fields(SAEConfig)}
    kwargs = {key: value for key, value in data.items() if key in fields and key != "extra"}
    kwargs["extra"] = dict(data.get("saelab") or {})
    kwargs["dtype"] = str(data.get("dtype") or "float32").removeprefix("torch.")
    return SAEConfig(**kwargs)


def read_config(directory: str | Path) -> SAEConfig:
    """The SAEConfig of a saelab SAE directory, without loading its weights."""
    path = Path(directory) / CONFIG_FILE
    try:
        return config_from_json(json.loads(path.read_text()), str(path))
    except FileNotFoundError:
        raise SAELoadError(
            f"{path}: not found (an SAE directory holds cfg.json and sae.safetensors)"
        ) from None
    except json.JSONDecodeError as err:
        raise SAELoadError(f"{path}: not valid JSON: {err}") from None


def set_activations_path(directory: str | Path, activations: str) -> None:
    """Record the activation set of an SAE directory in its cfg.json (absolute, or relative to the directory)."""
    update_config(directory, activations_path=activations, dataset_path=activations)


def update_config(directory: str | Path, **values: Any) -> None:
    """Set keys of an SAE directory's cfg.json (atomically)."""
    path = Path(directory) / CONFIG_FILE
    data = json.loads(path.read_text()) | values
    tmp = path.with_name(f".{CONFIG_FILE}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def load_sae(directory: str | Path, device: str | torch.device = "cpu") -> SAE:
    """Load an SAE saved by ``save_sae``, or a SAELens folder (read by ``shared.sae.saelens.read_saelens``)."""
    directory = Path(directory)
    cfg_path = directory / CONFIG_FILE
    if not cfg_path.is_file():
        raise SAELoadError(f"{cfg_path}: not found (an SAE directory holds cfg.json and sae.safetensors)")
    if not (directory / WEIGHTS_FILE).is_file() and (directory / SAELENS_WEIGHTS_FILE).is_file():
        from shared.sae.saelens import SAELensFormatError, read_saelens

        try:
            return read_saelens(directory).sae.to(device)
        except SAELensFormatError as err:
            raise SAELoadError(str(err)) from None
    try:
        data = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as err:
        raise SAELoadError(f"{cfg_path}: not valid JSON: {err}") from None
    try:
        cfg = config_from_json(data, str(cfg_path))
        sae = create_sae(cfg)
    except ValueError as err:
        raise SAELoadError(f"{cfg_path}: {err}") from None
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        found = sorted(p.name for p in directory.iterdir())
        raise SAELoadError(f"{directory}: no {WEIGHTS_FILE} (found: {found})")
    sae.load_state_dict(_read_weights(weights, sae))
    return sae.to(device)


def _read_weights(path: Path, sae: SAE) -> dict[str, torch.Tensor]:
    tensors = load_file(str(path))
    state = sae.state_dict()
    missing, unknown = state_mismatch(state, tensors)
    if missing or unknown:
        raise SAELoadError(
            f"{path}: missing tensors {missing}, unsupported tensors {unknown} for a {sae.architecture} SAE"
        )
    wrong = first_wrong_shape(state, tensors)
    if wrong is not None:
        name, got, want = wrong
        raise SAELoadError(f"{path}: {name} has shape {got}, cfg.json says {want}")
    return cast_to_state(state, tensors)
