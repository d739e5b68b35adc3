"""Artifact store: one interface, a local-directory and an S3 (``minio`` client) implementation, sha256-checked.

Artifacts move between workers through the store; metadata moves through the database. Key layout::

    datasets/<dataset_id>/meta.json, shard-00000.h5, ...      activation set (collector)
    datasets/<dataset_id>/MANIFEST.json                        written last: the set is complete
    runs/<run_id>/sae.safetensors, cfg.json, train_config.yaml, metrics.jsonl, eval.json
    runs/<run_id>/MANIFEST.json                                written last: the trained run is complete
    runs/<run_id>/checkpoints/step-<N>/...                     training checkpoints (+ their MANIFEST.json)
    runs/<run_id>/results/...                                  analysis export (+ MANIFEST.json)

Every object's sha256 is recorded when it is written (S3: object metadata ``x-amz-meta-sha256``; local: a
sidecar under ``<root>/.checksums/``) and verified on every read: a mismatch raises ``ChecksumMismatch`` naming the
key. A directory is uploaded file by file and then its ``MANIFEST.json`` (relative path -> size + sha256), so a
directory without a manifest is incomplete (a worker died mid-upload) and ``get_dir`` refuses it. The S3 client
uploads large files in multipart chunks (``part_size``); the bucket is created when missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = "saelab-manifest/1"
_CHUNK = 1 << 20


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


def _check_key(key: str) -> str:
    key = key.strip("/")
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts) or key.startswith("."):
        raise StoreError(f"invalid artifact key {key!r}: use relative keys like 'runs/<id>/cfg.json'")
    return key


# --------------------------------------------------------------------------------------------------------------
# Checksums and manifests
# --------------------------------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ObjectInfo:
    """An object in the store: its key, size in bytes and recorded sha256."""

    key: str
    size: int
    sha256: str | None


def _walk(local_dir: Path) -> Iterator[Path]:
    for path in sorted(local_dir.rglob("*")):
        rel = path.relative_to(local_dir)
        if path.is_file() and not path.name.endswith(".tmp") and rel.as_posix() != MANIFEST:
            yield path


def _manifest_bytes(files: dict[str, ObjectInfo]) -> bytes:
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
        prefix = _check_key(prefix)
        local_dir = Path(local_dir)
        if not local_dir.is_dir():
            raise StoreError(f"put_dir {prefix}: {local_dir} is not a directory")
        files: dict[str, ObjectInfo] = {}
        for path in _walk(local_dir):
            rel = path.relative_to(local_dir).as_posix()
            if rel.startswith(exclude):
                continue
            files[rel] = (
                self.put_file_if_changed(f"{prefix}/{rel}", path)
                if skip_unchanged
                else self.put_file(f"{prefix}/{rel}", path)
            )
        self.put_bytes(f"{prefix}/{MANIFEST}", _manifest_bytes(files))
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
        key = f"{_check_key(prefix)}/{MANIFEST}"
        if not self.exists(key):
            return None
        data = self.get_json(key)
        if data.get("format") != MANIFEST_FORMAT:
            raise StoreError(f"{key}: not a saelab manifest (format {data.get('format')!r})")
        return data

    def has_dir(self, prefix: str) -> bool:
        """True when ``prefix`` holds a completely uploaded directory."""
        return self.exists(f"{_check_key(prefix)}/{MANIFEST}")

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
        prefix = _check_key(prefix)
        names = set()
        for key in self.keys(prefix):
            rest = key[len(prefix) + 1 :].split("/")
            if len(rest) == 2 and rest[1] == MANIFEST:
                names.add(rest[0])
        return sorted(names)


# --------------------------------------------------------------------------------------------------------------
# Local directory
# --------------------------------------------------------------------------------------------------------------


class LocalStore(ArtifactStore):
    """Artifacts as plain files under ``root``; checksums in sidecar files under ``root/.checksums``."""

    in_place = True

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._sums = self.root / ".checksums"

    def path(self, key: str) -> Path:
        """Where ``key`` lives on disk."""
        return self.root / _check_key(key)

    def _sum_path(self, key: str) -> Path:
        return self._sums / f"{_check_key(key)}.sha256"

    def _record(self, key: str, digest: str) -> None:
        sidecar = self._sum_path(key)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        tmp = sidecar.with_name(sidecar.name + ".tmp")
        tmp.write_text(digest)
        os.replace(tmp, sidecar)

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        target = self.path(key)
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"put {key}: {path} is not a file")
        digest = sha256_file(path)
        if path.resolve() != target:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        self._record(key, digest)
        return ObjectInfo(_check_key(key), target.stat().st_size, digest)

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        digest = hashlib.sha256(data).hexdigest()
        self._record(key, digest)
        return ObjectInfo(_check_key(key), len(data), digest)

    def stat(self, key: str) -> ObjectInfo | None:
        target = self.path(key)
        if not target.is_file():
            return None
        sidecar = self._sum_path(key)
        digest = sidecar.read_text().strip() if sidecar.is_file() else None
        return ObjectInfo(_check_key(key), target.stat().st_size, digest)

    def _verified(self, key: str) -> Path:
        info = self.stat(key)
        if info is None:
            raise ArtifactNotFound(f"{self.uri(key)}: no such artifact")
        actual = sha256_file(self.path(key))
        if info.sha256 is not None and actual != info.sha256:
            raise ChecksumMismatch(
                f"{self.uri(key)}: sha256 {actual[:12]}... does not match the recorded {info.sha256[:12]}..."
            )
        return self.path(key)

    def get_file(self, key: str, dest: Path) -> Path:
        source = self._verified(key)
        dest = Path(dest)
        if dest.resolve() != source:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, dest)
        return dest

    def get_bytes(self, key: str) -> bytes:
        return self._verified(key).read_bytes()

    def keys(self, prefix: str) -> list[str]:
        base = self.path(prefix)
        if base.is_file():
            return [_check_key(prefix)]
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.endswith(".tmp")
        )

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
        self._sum_path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return (self.root / key.strip("/")).as_uri()

    def workdir(self, prefix: str) -> Path:
        return self.path(prefix)


# --------------------------------------------------------------------------------------------------------------
# S3 (MinIO API)
# --------------------------------------------------------------------------------------------------------------


class S3Store(ArtifactStore):
    """Artifacts in one S3 bucket through the ``minio`` client; workers keep local copies under ``cache_dir``."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        cache_dir: Path | str,
        secure: bool = False,
        region: str | None = None,
        part_size: int = 16 * 1024 * 1024,
    ) -> None:
        from minio import Minio

        self.endpoint = endpoint
        self.bucket = bucket
        self.cache_dir = Path(cache_dir).resolve()
        self.part_size = part_size
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        from minio.error import S3Error

        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
                log.info("created bucket %s on %s", self.bucket, self.endpoint)
        except S3Error as err:
            if err.code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                raise StoreError(
                    f"S3 {self.endpoint}: credentials rejected ({err.code}); check SAELAB_S3_ACCESS_KEY and "
                    "SAELAB_S3_SECRET_KEY"
                ) from None
            if err.code != "BucketAlreadyOwnedByYou":
                raise

    def _missing(self, err: Exception) -> bool:
        return getattr(err, "code", None) in ("NoSuchKey", "NoSuchObject", "NotFound")

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        key = _check_key(key)
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"put {key}: {path} is not a file")
        digest = sha256_file(path)
        self.client.fput_object(
            self.bucket, key, str(path), metadata={"sha256": digest}, part_size=self.part_size
        )
        return ObjectInfo(key, path.stat().st_size, digest)

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        key = _check_key(key)
        digest = hashlib.sha256(data).hexdigest()
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), metadata={"sha256": digest})
        return ObjectInfo(key, len(data), digest)

    def stat(self, key: str) -> ObjectInfo | None:
        from minio.error import S3Error

        key = _check_key(key)
        try:
            st = self.client.stat_object(self.bucket, key)
        except S3Error as err:
            if self._missing(err):
                return None
            raise
        meta = {k.lower(): v for k, v in (st.metadata or {}).items()}
        return ObjectInfo(key, int(st.size or 0), meta.get("x-amz-meta-sha256"))

    def _stream(self, key: str, out: BinaryIO) -> None:
        """Copy ``key`` into ``out`` and verify the sha256 recorded in the object's metadata."""
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as err:
            if self._missing(err):
                raise ArtifactNotFound(f"{self.uri(key)}: no such artifact") from None
            raise
        digest = hashlib.sha256()
        try:
            expected = response.headers.get("x-amz-meta-sha256")
            for chunk in response.stream(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        finally:
            response.close()
            response.release_conn()
        if expected is not None and digest.hexdigest() != expected:
            raise ChecksumMismatch(
                f"{self.uri(key)}: sha256 {digest.hexdigest()[:12]}... does not match the recorded {expected[:12]}..."
            )

    def get_file(self, key: str, dest: Path) -> Path:
        key = _check_key(key)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                self._stream(key, f)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest

    def get_bytes(self, key: str) -> bytes:
        buf = io.BytesIO()
        self._stream(_check_key(key), buf)
        return buf.getvalue()

    def keys(self, prefix: str) -> list[str]:
        prefix = _check_key(prefix)
        keys = [
            o.object_name for o in self.client.list_objects(self.bucket, prefix=prefix + "/", recursive=True)
        ]
        if self.stat(prefix) is not None:
            keys.append(prefix)
        return sorted(k for k in keys if k)

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, _check_key(key))

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key.strip('/')}"

    def workdir(self, prefix: str) -> Path:
        return self.cache_dir / _check_key(prefix)


# --------------------------------------------------------------------------------------------------------------
# Moving datasets, runs and checkpoints between the store and a worker
# --------------------------------------------------------------------------------------------------------------

RUN_EXCLUDE = ("checkpoints/", "results/")
"""Parts of a run directory with their own prefixes (and manifests), left out of the run's manifest."""


def fetch_dataset(store: ArtifactStore, dataset_id: str) -> Path:
    """The complete activation set ``dataset_id`` in this worker's directory (downloaded when needed)."""
    prefix = dataset_prefix(dataset_id)
    return store.get_dir(prefix, store.workdir(prefix))


def fetch_run(store: ArtifactStore, run_id: str) -> Path:
    """The trained run ``run_id`` (weights, cfg, metrics, eval) in this worker's directory."""
    prefix = run_prefix(run_id)
    return store.get_dir(prefix, store.workdir(prefix))


def publish_run(store: ArtifactStore, run_id: str, run_dir: Path) -> dict[str, ObjectInfo]:
    """Upload a run directory (checkpoints and results excluded) and its manifest."""
    return store.put_dir(run_prefix(run_id), run_dir, exclude=RUN_EXCLUDE)


def checkpoint_step(name: str) -> int | None:
    """The step of a checkpoint directory name ``step-<N>``, or None for anything else."""
    head, _, tail = name.partition("-")
    return int(tail) if head == "step" and tail.isdigit() else None


def fetch_latest_checkpoint(store: ArtifactStore, run_id: str, run_dir: Path) -> int | None:
    """Download the newest complete checkpoint of a run into ``run_dir/checkpoints``; its step, or None."""
    prefix = checkpoints_prefix(run_id)
    steps = {step: name for name in store.subdirs(prefix) if (step := checkpoint_step(name)) is not None}
    if not steps:
        return None
    step = max(steps)
    store.get_dir(f"{prefix}/{steps[step]}", Path(run_dir) / "checkpoints" / steps[step])
    return step


def upload_checkpoint(store: ArtifactStore, run_id: str, ckpt_dir: Path) -> None:
    """Upload one checkpoint directory, then drop stored checkpoints the trainer no longer keeps locally."""
    ckpt_dir = Path(ckpt_dir)
    prefix = checkpoints_prefix(run_id)
    store.put_dir(f"{prefix}/{ckpt_dir.name}", ckpt_dir)
    kept = {p.name for p in ckpt_dir.parent.iterdir() if p.is_dir()}
    stored = {key[len(prefix) + 1 :].split("/")[0] for key in store.keys(prefix)}
    for name in stored - kept:
        if checkpoint_step(name) is not None:
            store.delete_prefix(f"{prefix}/{name}")


# --------------------------------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------------------------------


def get_store(settings: Settings | None = None) -> ArtifactStore:
    """The store the settings describe: S3 when ``SAELAB_S3_ENDPOINT`` is set, else the local artifact dir."""
    settings = settings or get_settings()
    if settings.s3_endpoint:
        return S3Store(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            cache_dir=Path(settings.artifacts_dir) / "cache",
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    return LocalStore(settings.artifacts_dir)
