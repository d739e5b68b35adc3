"""Fenced server paths: which local files and folders an API submission may name, and Hub ids checked by shape.

A submission (GraphQL, never the CLI: a local user may read what they like) names a corpus, a model, a GGUF file or
an import source either as a Hugging Face hub id or as a path on the server. A path is allowed only under one of
the data roots (``Settings.data_roots`` = ``SAELAB_DATA_ROOTS``; unset: the artifact directory and the shared data
directory in embedded mode, none in distributed mode). ``~``, ``..`` and symlinks are resolved *before* the
check, so neither a parent reference nor a link planted under a root leads out of it, and the path must exist at
submission. A value that is no existing path and has the shape of a hub id (``name`` or ``owner/name``) is a hub
id; anything else is a path. Every refusal is a ``PathRefused`` naming the field and the allowed roots (by label).

A fenced path is stored and shown as a *reference* ``@<root label>/<path under the root>`` (``@data/tinystories``;
a root's label is its folder name, ``-2``, ``-3`` appended to repeats), never as an absolute server path. The
loaders (``shared.lm.load``, the collector's corpus) turn a reference back into a path with ``resolve_reference``,
which fences it again against the reading process's own roots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from shared.hub import LOCAL_CORPUS
from shared.settings import Settings, get_settings

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
    reference: str
    """``@<root label>/<relative>``: the form stored in the database and shown by the API."""


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


def root_labels(roots: tuple[Path, ...]) -> dict[str, Path]:
    """Each root under its label: its folder name, with ``-2``, ``-3`` ... appended to repeated names."""
    labels: dict[str, Path] = {}
    for root in roots:
        base = root.name or "root"
        label, n = base, 1
        while label in labels:
            n += 1
            label = f"{base}-{n}"
        labels[label] = root
    return labels


def describe_roots(roots: tuple[Path, ...]) -> str:
    """The roots for an error message, by label (``@artifacts, @data``: what a submission may write to name a
    file under one, without the answer revealing the server's folders); "none configured" when there are none."""
    if not roots:
        return "none configured; set SAELAB_DATA_ROOTS to allow server paths"
    return ", ".join(f"@{label}" for label in root_labels(roots))


def fence_path(
    value: str, field: str, roots: tuple[Path, ...], kind: Kind = "any", shown: str | None = None
) -> FencedPath:
    """Resolve ``value`` (``~``, ``..``, symlinks) and require it under a root and existing as ``kind``.

    Messages quote ``shown`` (what the client sent) instead of ``value`` when given, so a path the server built
    (a resolved reference joined with a file name) is never echoed."""
    _check_text(value, field)
    quoted = repr(shown if shown is not None else value)
    try:
        resolved = Path(value).expanduser().resolve()
    except (OSError, RuntimeError, ValueError) as err:  # symlink loops, unknown ~user
        raise PathRefused(field, f"{quoted} is not a usable path ({type(err).__name__})") from None
    found = _root_of(resolved, roots)
    if found is None:
        raise PathRefused(field, f"{quoted} is outside the allowed data roots ({describe_roots(roots)})")
    label, root = found
    if not resolved.exists():
        raise PathRefused(field, f"{quoted} does not exist under the data roots")
    if kind == "file" and not resolved.is_file():
        raise PathRefused(field, f"{quoted} is not a file")
    if kind == "dir" and not resolved.is_dir():
        raise PathRefused(field, f"{quoted} is not a folder")
    relative = PurePosixPath(resolved.relative_to(root).as_posix())
    reference = f"@{label}" if str(relative) == "." else f"@{label}/{relative}"
    return FencedPath(root, relative, resolved, reference)


def resolve_reference(value: str, roots: tuple[Path, ...], field: str = "path") -> str:
    """The path a reference ``@label/rel`` stands for (fenced again); any other value unchanged."""
    if not value.startswith("@"):
        return value
    label, _, rel = value[1:].partition("/")
    root = root_labels(roots).get(label)
    if root is None:
        raise PathRefused(field, f"{value!r}: no data root labelled {label!r} ({describe_roots(roots)})")
    return str(fence_path(str(root / rel) if rel else str(root), field, roots, shown=value).resolved)


def local_source(value: str | None, settings: Settings | None = None, field: str = "path") -> str | None:
    """What a loader opens for a stored source: a reference resolved under this process's roots, else unchanged."""
    if value is None or not value.startswith("@"):
        return value
    return resolve_reference(value, data_roots(settings or get_settings()), field)


_ABSOLUTE = re.compile(r"(?<![\w:/.~@-])(?:~|/)[^\s'\"`,;:()\[\]{}<>|]+")


def public_text(text: str, settings: Settings | None = None) -> str:
    """``text`` (a job message or error) with no absolute server path: a path under the artifact folder becomes its
    store key (``runs/<id>/cfg.json``), one under a data root its reference (``@data/x.txt``), any other its last
    component after ``…/``."""
    if "/" not in text and "~" not in text:
        return text
    settings = settings or get_settings()
    artifacts = Path(settings.artifacts_dir).expanduser().resolve()
    places = [(artifacts / "cache", ""), (artifacts, "")]
    places += [(root, f"@{label}/") for label, root in root_labels(data_roots(settings)).items()]

    def replace(match: re.Match[str]) -> str:
        raw = match.group(0)
        try:
            path = Path(raw).expanduser().resolve()
        except (OSError, RuntimeError, ValueError):
            return "…"
        for root, prefix in places:
            if path == root or path.is_relative_to(root):
                rel = path.relative_to(root).as_posix()
                return prefix + rel if rel != "." else (prefix.rstrip("/") or ".")
        return f"…/{path.name}" if path.name else "…"

    return _ABSOLUTE.sub(replace, text)


def public_json(value: Any, settings: Settings | None = None) -> Any:
    """A JSON value (a config, a summary) with ``public_text`` applied to every string in it."""
    if isinstance(value, str):
        return public_text(value, settings)
    if isinstance(value, dict):
        return {key: public_json(item, settings) for key, item in value.items()}
    if isinstance(value, list):
        return [public_json(item, settings) for item in value]
    return value


def is_hub_id(value: str) -> bool:
    """True when ``value`` has the shape of a Hugging Face repo id."""
    return bool(HUB_ID.match(value)) and ".." not in value and "--" not in value


def hub_or_path(value: str, field: str, roots: tuple[Path, ...], kind: Kind = "any") -> str:
    """A hub id unchanged, or a local path (one that exists, or does not look like a hub id) fenced and resolved.

    Returns the value to store and hand to the worker: the hub id, or the path's reference ``@label/rel`` (the
    worker opens exactly what was checked, whatever its working directory, and no server path is stored)."""
    _check_text(value, field)
    if value.startswith("@"):
        return fence_path(resolve_reference(value, roots, field), field, roots, kind, shown=value).reference
    local = _exists(value)
    if not local and is_hub_id(value) and not value.endswith(LOCAL_SUFFIXES):
        return value
    if not local and not _looks_like_path(value):
        raise PathRefused(
            field, f"{value!r} is neither a hub id (name or owner/name) nor a path under the data roots"
        )
    return fence_path(value, field, roots, kind).reference


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
    if not source.startswith("@"):
        if not HUB_FILE.match(gguf_file) or ".." in gguf_file:
            raise PathRefused(gguf_field, f"{gguf_file!r} is not a file name inside the hub repo")
        return source, gguf_file
    if kind == "file":
        raise PathRefused(gguf_field, "not allowed when model is a .gguf file (the file is the model)")
    folder = Path(resolve_reference(source, roots, model_field))
    inside = fence_path(str(folder / gguf_file), gguf_field, roots, "file", shown=gguf_file)
    if inside.resolved.parent != folder:
        raise PathRefused(gguf_field, f"{gguf_file!r} must name a file directly inside the model folder")
    return source, inside.resolved.name


def _root_of(path: Path, roots: tuple[Path, ...]) -> tuple[str, Path] | None:
    """The (label, root) a resolved path lies under, or None."""
    for label, root in root_labels(roots).items():
        if path == root or path.is_relative_to(root):
            return label, root
    return None


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
