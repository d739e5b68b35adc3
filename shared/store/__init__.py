"""Artifact store: one interface, a local-directory and an S3 (``minio`` client) implementation, sha256-checked.

``base`` holds the interface and the key layout, ``local`` and ``s3`` the implementations, ``transfer`` the moves
between the store and a worker; everything is imported from ``shared.store``.

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

from pathlib import Path

from shared.settings import Settings, get_settings
from shared.store.base import (
    MANIFEST,
    MANIFEST_FORMAT,
    ArtifactNotFound,
    ArtifactStore,
    ChecksumMismatch,
    IncompleteDirectory,
    ObjectInfo,
    StoreError,
    checkpoints_prefix,
    dataset_prefix,
    results_prefix,
    run_prefix,
    sha256_file,
    verify_file,
)
from shared.store.local import LocalStore
from shared.store.s3 import S3Store
from shared.store.transfer import (
    RUN_EXCLUDE,
    checkpoint_step,
    fetch_checkpoints,
    fetch_dataset,
    fetch_latest_checkpoint,
    fetch_run,
    publish_run,
    upload_checkpoint,
)

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "RUN_EXCLUDE",
    "ArtifactNotFound",
    "ArtifactStore",
    "ChecksumMismatch",
    "IncompleteDirectory",
    "LocalStore",
    "ObjectInfo",
    "S3Store",
    "StoreError",
    "checkpoint_step",
    "checkpoints_prefix",
    "dataset_prefix",
    "fetch_dataset",
    "fetch_checkpoints",
    "fetch_latest_checkpoint",
    "fetch_run",
    "get_store",
    "publish_run",
    "results_prefix",
    "run_prefix",
    "sha256_file",
    "verify_file",
    "upload_checkpoint",
]


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
