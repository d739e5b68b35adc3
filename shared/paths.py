"""Fenced server paths: which local files and folders an API submission may name, and Hub ids checked by shape.

A submission (GraphQL, never the CLI: a local user may read what they like) names a corpus, a model, a GGUF file or
an import source either as a Hugging Face hub id or as a path on the server. A path is allowed only under one of
the data roots (``Settings.data_roots`` = ``SAELAB_DATA_ROOTS``; unset: the artifact directory and the shared data
directory in embedded mode, none in distributed mode). ``~``, ``..`` and symlinks are resolved *before* the
check, so neither a parent reference nor a link planted under a root leads out of it, and the path must exist at
submission. A value that is no existing path and has the shape of a hub id (``name`` or ``owner/name``) is a hub
id; anything else is a path. Every refusal is a ``PathRefused`` naming the field and the allowed roots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from shared.hub import LOCAL_CORPUS
from shared.settings import Settings

SHARED_DATA_DIR = LOCAL_CORPUS.parent
"""The team's shared data folder (TinyStories and friends): a default root in embedded mode."""

MAX_PATH_CHARS = 1024
HUB_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
"""A Hugging Face repo id: ``name`` or ``owner/name``; letters, digits, ``.``, ``_``, ``-`` (no ``..``/``--``)."""
HUB_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
"""A file name inside a hub repo (``model-q8_0.gguf``): one path component, no separators."""
LOCAL_SUFFIXES = (".txt", ".jsonl", ".gguf", ".safetensors", ".json")
"""Names ending so are local files (what the collector and the LM loader would open), never hub ids."""
NAMED_MODELS = frozenset({"smollm2"})
"""Model names that stand for a packaged model (``shared.lm.load``), not a path or a hub id."""

Kind = Literal["file", "dir", "any"]


class PathRefused(ValueError):
    """A submitted path or hub id is not allowed; ``field`` names the submission key at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class FencedPath:
    """A path that passed the fence: its root, its place under the root, and the resolved path itself."""

    root: Path
    relative: PurePosixPath
    resolved: Path


def data_roots(settings: Settings) -> tuple[Path, ...]:
    """The resolved roots a submission may name paths under (see the module docstring for the defaults)."""
    if settings.data_roots is not None:
        configured = settings.data_roots
    elif settings.embedded:
        configured = (Path(settings.artifacts_dir), SHARED_DATA_DIR)
    else:
        configured = ()
    roots: list[Path] = []
    for root in configured:
        resolved = root.expanduser().resolve()
        if resolved not in roots:
            roots.append(resolved)
    return tuple(roots)


def describe_roots(roots: tuple[Path, ...]) -> str:
    """The roots for an error message ("none configured" when there are none)."""
    if not roots:
        return "none configured; set SAELAB_DATA_ROOTS to allow server paths"
    return ", ".join(str(root) for root in roots)


def fence_path(value: str, field: str, roots: tuple[Path, ...], kind: Kind = "any") -> FencedPath:
    """Resolve ``value`` (``~``, ``..``, symlinks) and require it under a root and existing as ``kind``."""
    _check_text(value, field)
    try:
        resolved = Path(value).expanduser().resolve()
    except (OSError, RuntimeError, ValueError) as err:  # symlink loops, unknown ~user
        raise PathRefused(field, f"{value!r} is not a usable path ({type(err).__name__})") from None
    for root in roots:
        if resolved == root or resolved.is_relative_to(root):
            break
    else:
        raise PathRefused(field, f"{value!r} is outside the allowed data roots ({describe_roots(roots)})")
    if not resolved.exists():
        raise PathRefused(field, f"{value!r} does not exist under the data roots")
    if kind == "file" and not resolved.is_file():
        raise PathRefused(field, f"{value!r} is not a file")
    if kind == "dir" and not resolved.is_dir():
        raise PathRefused(field, f"{value!r} is not a folder")
    return FencedPath(root, PurePosixPath(resolved.relative_to(root).as_posix()), resolved)


def is_hub_id(value: str) -> bool:
    """True when ``value`` has the shape of a Hugging Face repo id."""
    return bool(HUB_ID.match(value)) and ".." not in value and "--" not in value


def hub_or_path(value: str, field: str, roots: tuple[Path, ...], kind: Kind = "any") -> str:
    """A hub id unchanged, or a local path (one that exists, or does not look like a hub id) fenced and resolved.

    Returns the value to hand to the worker: the hub id, or the resolved path (so the worker opens exactly what
    was checked, whatever its working directory)."""
    _check_text(value, field)
    local = _exists(value)
    if not local and is_hub_id(value) and not value.endswith(LOCAL_SUFFIXES):
        return value
    if not local and not _looks_like_path(value):
        raise PathRefused(
            field, f"{value!r} is neither a hub id (name or owner/name) nor a path under the data roots"
        )
    return str(fence_path(value, field, roots, kind).resolved)


def fence_model(
    model: str, gguf_file: str | None, roots: tuple[Path, ...], prefix: str = ""
) -> tuple[str, str | None]:
    """Check a model source (a packaged name, a hub id, a model folder or a .gguf file) and its GGUF file name.

    With a hub id ``gguf_file`` must be a plain file name; with a folder it must be a file inside the folder (the
    joined path fenced like any other); a ``.gguf`` path is fenced as a file."""
    model_field, gguf_field = f"{prefix}model", f"{prefix}gguf_file"
    if model in NAMED_MODELS:
        if gguf_file is not None:
            raise PathRefused(gguf_field, f"not allowed with the packaged model {model!r}")
        return model, None
    kind: Kind = "file" if model.endswith(".gguf") else "dir"
    source = hub_or_path(model, model_field, roots, kind)
    if gguf_file is None:
        return source, None
    if source == model and is_hub_id(model) and not _exists(model):
        if not HUB_FILE.match(gguf_file) or ".." in gguf_file:
            raise PathRefused(gguf_field, f"{gguf_file!r} is not a file name inside the hub repo")
        return source, gguf_file
    if kind == "file":
        raise PathRefused(gguf_field, "not allowed when model is a .gguf file (the file is the model)")
    inside = fence_path(str(Path(source) / gguf_file), gguf_field, roots, "file")
    if inside.resolved.parent != Path(source):
        raise PathRefused(gguf_field, f"{gguf_file!r} must name a file directly inside the model folder")
    return source, inside.resolved.name


def _check_text(value: str, field: str) -> None:
    if not value or not value.strip():
        raise PathRefused(field, "must not be empty")
    if len(value) > MAX_PATH_CHARS:
        raise PathRefused(field, f"at most {MAX_PATH_CHARS} characters (got {len(value)})")
    if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise PathRefused(field, "contains a NUL or an unpaired surrogate character")


def _exists(value: str) -> bool:
    try:
        return Path(value).expanduser().exists()
    except (OSError, RuntimeError, ValueError):
        return False


def _looks_like_path(value: str) -> bool:
    return (
        value.startswith((".", "/", "~")) or "/" in value or "\\" in value or value.endswith(LOCAL_SUFFIXES)
    )
