"""The artifact store's contract: the interface, its errors, the key layout, checksums and manifests.

Implementations: ``shared.store.local.LocalStore`` and ``shared.store.s3.S3Store``; the package docstring has the
key layout and the integrity rules.
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = "saelab-manifest/1"
CHUNK = 1 << 20


class StoreError(RuntimeError):
    """The artifact store could not do what was asked (the message names the key or the endpoint)."""


class ArtifactNotFound(StoreError, KeyError):
    """No object under that key."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ChecksumMismatch(StoreError):
    """An object's content does not match the sha256 recorded when it was written."""


class IncompleteDirectory(StoreError):
    """A directory prefix has no MANIFEST.json: its upload never finished."""


# --------------------------------------------------------------------------------------------------------------
# Key layout
# --------------------------------------------------------------------------------------------------------------


def dataset_prefix(dataset_id: str) -> str:
    """``datasets/<id>``: an activation set."""
    return f"datasets/{dataset_id}"


def run_prefix(run_id: str) -> str:
    """``runs/<id>``: a training run (weights, cfg, metrics, eval)."""
    return f"runs/{run_id}"


def checkpoints_prefix(run_id: str) -> str:
    """``runs/<id>/checkpoints``: one sub-prefix per checkpoint."""
    return f"{run_prefix(run_id)}/checkpoints"


def results_prefix(run_id: str) -> str:
    """``runs/<id>/results``: the analysis export."""
    return f"{run_prefix(run_id)}/results"


def check_key(key: str) -> str:
    key = key.strip("/")
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts) or key.startswith("."):
        raise StoreError(f"invalid artifact key {key!r}: use relative keys like 'runs/<id>/cfg.json'")
    return key


# --------------------------------------------------------------------------------------------------------------
# Checksums and manifests
# --------------------------------------------------------------------------------------------------------------


def verify_file(store: ArtifactStore, key: str, path: Path) -> Path:
    """``path`` (a local copy of ``key``, or the object itself in a local store) when its sha256 matches the one
    recorded for ``key``; ArtifactNotFound when nothing is recorded, ChecksumMismatch naming the key otherwise."""
    info = store.stat(key)
    if info is None or not path.is_file():
        raise ArtifactNotFound(f"{store.uri(key)}: not in the store")
    if info.sha256 is not None and sha256_file(path) != info.sha256:
        raise ChecksumMismatch(f"{store.uri(key)}: content does not match its recorded sha256 (corrupted)")
    return path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ObjectInfo:
    """An object in the store: its key, size in bytes and recorded sha256."""

    key: str
    size: int
    sha256: str | None


def walk_files(local_dir: Path) -> Iterator[Path]:
    for path in sorted(local_dir.rglob("*")):
        rel = path.relative_to(local_dir)
        if path.is_file() and not path.name.endswith(".tmp") and rel.as_posix() != MANIFEST:
            yield path


def manifest_bytes(files: dict[str, ObjectInfo]) -> bytes:
    body = {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "files": {rel: {"size": info.size, "sha256": info.sha256} for rel, info in sorted(files.items())},
    }
    return json.dumps(body, indent=1).encode()


# --------------------------------------------------------------------------------------------------------------
# Interface
# --------------------------------------------------------------------------------------------------------------


class ArtifactStore(ABC):
    """Keyed blobs with recorded checksums, plus whole-directory upload/download through manifests."""

    # --- what every backend checks (its errors worded once) ---

    @staticmethod
    def _source_digest(key: str, path: Path) -> str:
        """sha256 of a local file about to be stored under ``key`` (a StoreError when it is not a file)."""
        if not path.is_file():
            raise StoreError(f"put {key}: {path} is not a file")
        return sha256_file(path)

    def _not_found(self, key: str) -> ArtifactNotFound:
        """The error for reading ``key`` where the store holds nothing."""
        return ArtifactNotFound(f"{self.uri(key)}: no such artifact")

    def _check_sha256(self, key: str, actual: str, recorded: str | None) -> None:
        """ChecksumMismatch naming ``key`` when a sha256 was recorded and the content's differs."""
        if recorded is not None and actual != recorded:
            raise ChecksumMismatch(
                f"{self.uri(key)}: sha256 {actual[:12]}... does not match the recorded {recorded[:12]}..."
            )

    # --- single objects (implemented by each backend) ---

    @abstractmethod
    def put_file(self, key: str, path: Path) -> ObjectInfo:
        """Store a local file under ``key`` (overwriting), recording its sha256."""

    @abstractmethod
    def get_file(self, key: str, dest: Path) -> Path:
        """Copy ``key`` to ``dest`` (atomically), verifying its sha256; return ``dest``."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo | None:
        """Size and recorded sha256 of ``key``, or None when absent."""

    @abstractmethod
    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (recursive, sorted)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (no error when absent)."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Store ``data`` under ``key``, recording its sha256."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The content of ``key``, verified against its recorded sha256."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """A human-readable location (``file:///...`` or ``s3://bucket/key``)."""

    in_place: bool = False
    """True when ``workdir`` is the stored data itself (the local store): nothing needs copying."""

    def workdir(self, prefix: str) -> Path:
        """The local directory a worker uses for ``prefix`` (local store: the stored files themselves)."""
        raise NotImplementedError

    # --- derived operations ---

    def exists(self, key: str) -> bool:
        """True when ``key`` exists."""
        return self.stat(key) is not None

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under ``prefix``; return how many."""
        keys = self.keys(prefix)
        for key in keys:
            self.delete(key)
        return len(keys)

    def put_json(self, key: str, value: Any) -> ObjectInfo:
        """Store a JSON document."""
        return self.put_bytes(key, json.dumps(value, indent=1).encode())

    def get_json(self, key: str) -> Any:
        """Load a JSON document (checksum verified)."""
        return json.loads(self.get_bytes(key))

    def put_dir(
        self, prefix: str, local_dir: Path, skip_unchanged: bool = True, exclude: tuple[str, ...] = ()
    ) -> dict[str, ObjectInfo]:
        """Upload every file under ``local_dir`` to ``prefix/<relative path>``, then ``prefix/MANIFEST.json``.

        Files whose stored sha256 already matches are not sent again (``skip_unchanged``), so re-uploading a
        growing directory (shards, checkpoints) only moves the new files. ``*.tmp`` files and relative paths
        starting with one of ``exclude`` (e.g. ``"checkpoints/"``) are left out.
        """
        prefix = check_key(prefix)
        local_dir = Path(local_dir)
        if not local_dir.is_dir():
            raise StoreError(f"put_dir {prefix}: {local_dir} is not a directory")
        files: dict[str, ObjectInfo] = {}
        for path in walk_files(local_dir):
            rel = path.relative_to(local_dir).as_posix()
            if rel.startswith(exclude):
                continue
            files[rel] = (
                self.put_file_if_changed(f"{prefix}/{rel}", path)
                if skip_unchanged
                else self.put_file(f"{prefix}/{rel}", path)
            )
        self.put_bytes(f"{prefix}/{MANIFEST}", manifest_bytes(files))
        return files

    def put_file_if_changed(self, key: str, path: Path) -> ObjectInfo:
        """``put_file`` unless the stored object already has this file's size and sha256."""
        digest = sha256_file(path)
        info = self.stat(key)
        if info is not None and info.sha256 == digest and info.size == path.stat().st_size:
            return info
        return self.put_file(key, path)

    def manifest(self, prefix: str) -> dict[str, Any] | None:
        """The manifest of a completely uploaded directory, or None when the upload never finished."""
        key = f"{check_key(prefix)}/{MANIFEST}"
        if not self.exists(key):
            return None
        data = self.get_json(key)
        if data.get("format") != MANIFEST_FORMAT:
            raise StoreError(f"{key}: not a saelab manifest (format {data.get('format')!r})")
        return data

    def has_dir(self, prefix: str) -> bool:
        """True when ``prefix`` holds a completely uploaded directory."""
        return self.exists(f"{check_key(prefix)}/{MANIFEST}")

    def get_dir(self, prefix: str, dest: Path) -> Path:
        """Download the directory at ``prefix`` into ``dest``, every file checked against the manifest.

        Files already present in ``dest`` with the right sha256 are kept (so a resumed worker re-downloads
        nothing it has); raises ``IncompleteDirectory`` when the prefix has no manifest.
        """
        manifest = self.manifest(prefix)
        if manifest is None:
            raise IncompleteDirectory(
                f"{self.uri(prefix)}: no {MANIFEST} (missing, or its upload never finished)"
            )
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for rel, entry in manifest["files"].items():
            target = dest / rel
            if (
                target.is_file()
                and target.stat().st_size == entry["size"]
                and sha256_file(target) == entry["sha256"]
            ):
                continue
            self.get_file(f"{prefix.strip('/')}/{rel}", target)
            if sha256_file(target) != entry["sha256"]:
                raise ChecksumMismatch(f"{self.uri(prefix)}/{rel}: content does not match {MANIFEST}")
        return dest

    def subdirs(self, prefix: str) -> list[str]:
        """Names of the complete sub-directories directly under ``prefix`` (those with a manifest)."""
        prefix = check_key(prefix)
        names = set()
        for key in self.keys(prefix):
            rest = key[len(prefix) + 1 :].split("/")
            if len(rest) == 2 and rest[1] == MANIFEST:
                names.add(rest[0])
        return sorted(names)
