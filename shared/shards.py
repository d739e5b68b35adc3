"""Activation datasets on disk: HDF5 shards of activations + token ids, described by one meta.json.

A dataset is a directory::

    meta.json            {"format": "saelab-activations/1", "model", "hook", ..., "complete", "shards": [...]}
    shard-00000.h5       datasets ``activations`` [n, T, d] (float16/float32) and ``tokens`` [n, T] int32
    shard-00001.h5       ...

Every file is written atomically (a ``.tmp`` sibling, fsync, ``os.replace``), and ``meta.json`` only lists a shard
after its file is in place, so a reader never sees a half-written shard: leftover ``.tmp`` files are ignored.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import h5py
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shared.hooknames import HookKind
from shared.jsonfile import read_json

log = logging.getLogger(__name__)

FORMAT = "saelab-activations/1"
META_FILE = "meta.json"
TMP_SUFFIX = ".tmp"
Compression = Literal["lzf", "gzip", "none"]
_CHUNK_BYTES = 1 << 20  # ~1 MiB activation chunks: HDF5's sweet spot for compressed reads


class ShardFormatError(ValueError):
    """An activation dataset or shard is missing, incomplete or not in the expected format."""


# --------------------------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------------------------


class ShardInfo(BaseModel):
    """One finished shard listed in meta.json."""

    model_config = ConfigDict(extra="forbid")

    file: str
    """File name inside the dataset directory, e.g. ``shard-00000.h5``."""
    n_contexts: int = Field(ge=0)
    """Contexts (rows) stored in this shard."""


class ActivationMeta(BaseModel):
    """Contents of meta.json. Attribute access (``meta.d_in``) and mapping access (``meta["d_in"]``) both work."""

    model_config = ConfigDict(extra="allow")

    format: str = FORMAT
    """Format tag; readers refuse anything else."""
    model: str
    """Model the activations came from (hub name, directory or .gguf path as given)."""
    gguf_file: str | None = None
    """GGUF file name when the model was loaded from one."""
    hook: str
    """Hook point, e.g. ``blocks.8.hook_resid_pre``."""
    layer: int
    """Block index of the hook."""
    hook_kind: HookKind
    """What the hook reads in its block: resid_pre, resid_post, attn_out, mlp_out or mlp_in (docs/theory.md)."""
    d_in: int = Field(ge=1)
    """Activation width (the model's d_model)."""
    context_length: int = Field(ge=1)
    """Tokens per context."""
    prepend_bos: bool = True
    """Whether position 0 of every context is the BOS token."""
    bos_token_id: int | None = None
    """The BOS token id (None when the tokenizer has none)."""
    dtype: Literal["float16", "float32"] = "float32"
    """Storage dtype of the activations."""
    n_contexts: int = Field(0, ge=0)
    """Contexts in the finished dataset (the target while collection runs)."""
    shard_contexts: int = Field(ge=1)
    """Contexts per shard (the last shard may hold fewer)."""
    corpus: str = ""
    """Corpus the text came from."""
    corpus_fingerprint: str = ""
    """sha256 identifying the corpus contents (local) or name+split+revision (hub)."""
    seed: int = 0
    """Document-shuffling seed."""
    n_tokens: int = 0
    """Tokens collected (BOS positions included); set when the collection completes."""
    eos_token_id: int | None = None
    """The EOS token id that separates documents inside contexts."""
    model_family: str = ""
    """The model's ``config.model_type`` (``gpt2``, ``gpt_neox``, ``llama``, ...): how the hook was resolved."""
    config: dict[str, Any] = Field(default_factory=dict)
    """The collection config keys that determine the data (for resume checks)."""
    config_fingerprint: str = ""
    """sha256 of ``config``."""
    complete: bool = False
    """True once every shard is written."""
    shards: list[ShardInfo] = Field(default_factory=list)
    """Finished shards, in order."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.to_dict()

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (what meta.json holds)."""
        return self.model_dump(mode="json")


def shard_name(index: int) -> str:
    """File name of shard ``index``: ``shard-00000.h5``."""
    return f"shard-{index:05d}.h5"


def _atomic_target(path: Path) -> Path:
    return path.with_name(path.name + TMP_SUFFIX)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_meta(directory: str | Path, meta: ActivationMeta | Mapping[str, Any]) -> None:
    """Write ``directory/meta.json`` atomically."""
    meta = meta if isinstance(meta, ActivationMeta) else ActivationMeta.model_validate(dict(meta))
    path = Path(directory) / META_FILE
    tmp = _atomic_target(path)
    tmp.write_text(json.dumps(meta.to_dict(), indent=2) + "\n")
    _fsync(tmp)
    os.replace(tmp, path)


def read_meta(directory: str | Path) -> ActivationMeta:
    """Read and validate ``directory/meta.json``; raise ShardFormatError naming the file when it is bad."""
    path = Path(directory) / META_FILE
    if not Path(directory).is_dir():
        raise ShardFormatError(f"{directory}: activation dataset directory not found")
    data = read_json(
        path,
        ShardFormatError,
        f"{directory}: no {META_FILE}; not an activation dataset (run `saelab collect`)",
    )
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ShardFormatError(f"{path}: format is {got!r}, expected {FORMAT!r}")
    try:
        return ActivationMeta.model_validate(data)
    except ValueError as err:
        raise ShardFormatError(f"{path}: invalid metadata: {err}") from None


# --------------------------------------------------------------------------------------------------------------
# Shard files
# --------------------------------------------------------------------------------------------------------------


def _attr_value(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float)):
        return value
    return json.dumps(value)


def _filter_args(compression: str) -> dict[str, Any]:
    if compression == "lzf":
        return {"compression": "lzf"}
    if compression == "gzip":
        return {"compression": "gzip", "compression_opts": 4, "shuffle": True}
    if compression == "none":
        return {}
    raise ValueError(f"compression: {compression!r} is not one of 'lzf', 'gzip', 'none'")


def _chunk_shape(shape: tuple[int, int, int], itemsize: int) -> tuple[int, int, int]:
    """About 1 MiB per chunk: several whole contexts, or a slice of positions when one context is bigger."""
    n, t, d = shape
    context_bytes = t * d * itemsize
    if context_bytes <= _CHUNK_BYTES:
        return (max(1, min(n, _CHUNK_BYTES // context_bytes)), t, d)
    return (1, max(1, _CHUNK_BYTES // (d * itemsize)), d)


def write_shard(
    path: str | Path,
    acts: np.ndarray,
    tokens: np.ndarray,
    attrs: Mapping[str, Any] | None = None,
    compression: Compression = "lzf",
) -> None:
    """Write one shard atomically: ``acts`` [n, T, d] (stored in its own dtype, float16 or float32),
    ``tokens`` [n, T] (stored as int32) and ``attrs`` (metadata repeated as HDF5 attributes)."""
    path = Path(path)
    acts = np.asarray(acts)
    tokens = np.asarray(tokens)
    if acts.ndim != 3:
        raise ValueError(f"{path.name}: activations must be [n, T, d], got shape {acts.shape}")
    if acts.dtype not in (np.float16, np.float32):
        raise ValueError(f"{path.name}: activations dtype must be float16 or float32, got {acts.dtype}")
    if tokens.shape != acts.shape[:2]:
        raise ValueError(
            f"{path.name}: tokens shape {tokens.shape} does not match activations {acts.shape[:2]}"
        )
    filters = _filter_args(compression)
    tmp = _atomic_target(path)
    try:
        with h5py.File(tmp, "w") as f:
            if acts.size:
                chunks: tuple[int, ...] | None = _chunk_shape(acts.shape, acts.dtype.itemsize)
            else:
                chunks, filters = None, {}
            f.create_dataset("activations", data=acts, chunks=chunks, **filters)
            f.create_dataset(
                "tokens", data=tokens.astype(np.int32, copy=False), **(filters if acts.size else {})
            )
            for key, value in (attrs or {}).items():
                if value is not None:
                    f.attrs[key] = _attr_value(value)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _open_h5(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except FileNotFoundError:
        raise ShardFormatError(f"{path}: shard listed in {META_FILE} is missing") from None
    except OSError as err:
        raise ShardFormatError(f"{path}: unreadable or truncated shard: {err}") from None


# --------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------


class ActivationSet:
    """A collected activation dataset (read-only view over meta.json and its listed shards)."""

    def __init__(self, path: Path, meta: ActivationMeta) -> None:
        self.path = path
        self.meta = meta

    @classmethod
    def open(cls, path: str | Path, require_complete: bool = False) -> ActivationSet:
        """Open a dataset directory. Refuses a directory without meta.json; only shards listed there are read
        (stray ``.tmp`` files from an interrupted write are ignored). With ``require_complete`` an unfinished
        collection is an error."""
        path = Path(path)
        meta = read_meta(path)
        if require_complete and not meta.complete:
            raise ShardFormatError(
                f"{path}: collection incomplete ({len(meta.shards)} shards written); "
                "rerun `saelab collect` with the same config to resume it"
            )
        for info in meta.shards:
            if info.file.endswith(TMP_SUFFIX) or "/" in info.file or not (path / info.file).is_file():
                raise ShardFormatError(f"{path / info.file}: shard listed in {META_FILE} is missing")
        strays = sorted(p.name for p in path.glob(f"*{TMP_SUFFIX}"))
        if strays:
            log.debug("%s: ignoring unfinished files %s", path, strays)
        return cls(path, meta)

    # ---- sizes ----------------------------------------------------------------------------------------------

    @property
    def n_shards(self) -> int:
        return len(self.meta.shards)

    @property
    def n_contexts(self) -> int:
        """Contexts in the finished shards."""
        return sum(s.n_contexts for s in self.meta.shards)

    @property
    def context_length(self) -> int:
        return self.meta.context_length

    @property
    def n_tokens(self) -> int:
        """Tokens in the finished shards (BOS positions included)."""
        return self.n_contexts * self.context_length

    @property
    def d_in(self) -> int:
        return self.meta.d_in

    @property
    def complete(self) -> bool:
        return self.meta.complete

    def shard_path(self, i: int) -> Path:
        if not -self.n_shards <= i < self.n_shards:
            raise IndexError(f"{self.path}: shard {i} out of range (dataset has {self.n_shards} shards)")
        return self.path / self.meta.shards[i].file

    # ---- data -----------------------------------------------------------------------------------------------

    def _check(self, path: Path, f: h5py.File, i: int) -> None:
        want_n = self.meta.shards[i].n_contexts
        shape = f["activations"].shape if "activations" in f else None
        expected = (want_n, self.context_length, self.d_in)
        if shape != expected or "tokens" not in f or f["tokens"].shape != expected[:2]:
            raise ShardFormatError(f"{path}: activations shape {shape}, expected {expected} from {META_FILE}")

    def read_shard(self, i: int, dtype: str | None = "float32") -> tuple[np.ndarray, np.ndarray]:
        """Activations [n, T, d] (as ``dtype``; None keeps the stored dtype) and tokens [n, T] int32 of shard i."""
        path = self.shard_path(i)
        with _open_h5(path) as f:
            self._check(path, f, i)
            ds = f["activations"]
            acts = ds[()] if dtype is None or ds.dtype == np.dtype(dtype) else ds.astype(dtype)[()]
            tokens = f["tokens"][()].astype(np.int32, copy=False)
        return acts, tokens

    def read_tokens(self, i: int) -> np.ndarray:
        """Token ids [n, T] int32 of shard i, without reading the activations."""
        path = self.shard_path(i)
        with _open_h5(path) as f:
            self._check(path, f, i)
            return f["tokens"][()].astype(np.int32, copy=False)

    def iter_shards(self, dtype: str | None = "float32") -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``read_shard(i)`` for every shard in order."""
        for i in range(self.n_shards):
            yield self.read_shard(i, dtype)

    def __repr__(self) -> str:
        return (
            f"ActivationSet({str(self.path)!r}, hook={self.meta.hook!r}, shards={self.n_shards}, "
            f"tokens={self.n_tokens}, d_in={self.d_in}, complete={self.complete})"
        )


# --------------------------------------------------------------------------------------------------------------
# Writing a whole set (collector and tests)
# --------------------------------------------------------------------------------------------------------------


def shard_attrs(meta: ActivationMeta, index: int) -> dict[str, Any]:
    """Metadata repeated on each shard file (everything but the shard list), plus the shard index."""
    attrs = meta.to_dict()
    attrs.pop("shards", None)
    attrs.pop("complete", None)
    attrs["shard_index"] = index
    return attrs


def append_shard(
    directory: str | Path,
    meta: ActivationMeta,
    acts: np.ndarray,
    tokens: np.ndarray,
    compression: Compression = "lzf",
) -> ActivationMeta:
    """Write the next shard of ``meta`` atomically, then list it in meta.json (also atomic). Returns the new meta."""
    index = len(meta.shards)
    name = shard_name(index)
    write_shard(Path(directory) / name, acts, tokens, shard_attrs(meta, index), compression)
    meta = meta.model_copy(update={"shards": [*meta.shards, ShardInfo(file=name, n_contexts=len(acts))]})
    write_meta(directory, meta)
    return meta


def write_activation_set(
    directory: str | Path,
    acts: np.ndarray,
    tokens: np.ndarray,
    shard_contexts: int,
    compression: Compression = "lzf",
    **meta_fields: Any,
) -> ActivationSet:
    """Write a complete dataset from in-memory arrays (acts [N, T, d], tokens [N, T]); handy for tests.
    ``meta_fields`` fill ActivationMeta (model, hook, layer, hook_kind, ...; d_in/context_length/dtype/n_contexts
    are taken from the arrays)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    acts = np.asarray(acts)
    fields = {
        "d_in": acts.shape[2],
        "context_length": acts.shape[1],
        "dtype": str(acts.dtype),
        "n_contexts": acts.shape[0],
        "shard_contexts": shard_contexts,
        **meta_fields,
    }
    meta = ActivationMeta.model_validate(fields)
    write_meta(directory, meta)
    for start in range(0, len(acts), shard_contexts):
        meta = append_shard(
            directory,
            meta,
            acts[start : start + shard_contexts],
            tokens[start : start + shard_contexts],
            compression,
        )
    write_meta(
        directory, meta.model_copy(update={"complete": True, "n_tokens": acts.shape[0] * acts.shape[1]})
    )
    return ActivationSet.open(directory)
