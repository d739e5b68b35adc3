"""The artifact store on S3 (the ``minio`` client; MinIO or any S3 API): checksums in object metadata."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from shared.store.base import CHUNK, ArtifactStore, ObjectInfo, StoreError, check_key

log = logging.getLogger(__name__)


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
        key = check_key(key)
        path = Path(path)
        digest = self._source_digest(key, path)
        self.client.fput_object(
            self.bucket, key, str(path), metadata={"sha256": digest}, part_size=self.part_size
        )
        return ObjectInfo(key, path.stat().st_size, digest)

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        key = check_key(key)
        digest = hashlib.sha256(data).hexdigest()
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), metadata={"sha256": digest})
        return ObjectInfo(key, len(data), digest)

    def stat(self, key: str) -> ObjectInfo | None:
        from minio.error import S3Error

        key = check_key(key)
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
                raise self._not_found(key) from None
            raise
        digest = hashlib.sha256()
        try:
            expected = response.headers.get("x-amz-meta-sha256")
            for chunk in response.stream(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        finally:
            response.close()
            response.release_conn()
        self._check_sha256(key, digest.hexdigest(), expected)

    def get_file(self, key: str, dest: Path) -> Path:
        key = check_key(key)
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
        self._stream(check_key(key), buf)
        return buf.getvalue()

    def keys(self, prefix: str) -> list[str]:
        prefix = check_key(prefix)
        keys = [
            o.object_name for o in self.client.list_objects(self.bucket, prefix=prefix + "/", recursive=True)
        ]
        if self.stat(prefix) is not None:
            keys.append(prefix)
        return sorted(k for k in keys if k)

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, check_key(key))

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key.strip('/')}"

    def workdir(self, prefix: str) -> Path:
        return self.cache_dir / check_key(prefix)
