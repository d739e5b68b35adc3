"""The artifact store on a local directory (embedded mode, and each worker's working copy): sidecar checksums."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

from shared.store.base import ArtifactStore, ObjectInfo, check_key, sha256_file

log = logging.getLogger(__name__)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary sibling, so a reader sees the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary sibling, so a reader sees the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


class LocalStore(ArtifactStore):
    """Artifacts as plain files under ``root``; checksums in sidecar files under ``root/.checksums``."""

    in_place = True

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._sums = self.root / ".checksums"

    def path(self, key: str) -> Path:
        """Where ``key`` lives on disk."""
        return self.root / check_key(key)

    def _sum_path(self, key: str) -> Path:
        return self._sums / f"{check_key(key)}.sha256"

    def _record(self, key: str, digest: str) -> None:
        _write_atomically(self._sum_path(key), digest.encode())

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        target = self.path(key)
        path = Path(path)
        digest = self._source_digest(key, path)
        if path.resolve() != target:
            _copy_atomically(path, target)
        self._record(key, digest)
        return ObjectInfo(check_key(key), target.stat().st_size, digest)

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        _write_atomically(self.path(key), data)
        digest = hashlib.sha256(data).hexdigest()
        self._record(key, digest)
        return ObjectInfo(check_key(key), len(data), digest)

    def stat(self, key: str) -> ObjectInfo | None:
        target = self.path(key)
        if not target.is_file():
            return None
        sidecar = self._sum_path(key)
        digest = sidecar.read_text().strip() if sidecar.is_file() else None
        return ObjectInfo(check_key(key), target.stat().st_size, digest)

    def _verified(self, key: str) -> Path:
        info = self.stat(key)
        if info is None:
            raise self._not_found(key)
        self._check_sha256(key, sha256_file(self.path(key)), info.sha256)
        return self.path(key)

    def get_file(self, key: str, dest: Path) -> Path:
        source = self._verified(key)
        dest = Path(dest)
        if dest.resolve() != source:
            _copy_atomically(source, dest)
        return dest

    def get_bytes(self, key: str) -> bytes:
        return self._verified(key).read_bytes()

    def keys(self, prefix: str) -> list[str]:
        base = self.path(prefix)
        if base.is_file():
            return [check_key(prefix)]
        if not base.is_dir():
            return []
        # os.walk skips a folder that vanishes while it walks (the embedded trainer renames and prunes checkpoint
        # folders in this tree while others list it); a file that vanishes fails isfile
        return sorted(
            (Path(folder) / name).relative_to(self.root).as_posix()
            for folder, _, names in os.walk(base)
            for name in names
            if not name.endswith(".tmp") and os.path.isfile(os.path.join(folder, name))
        )

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
        self._sum_path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return (self.root / key.strip("/")).as_uri()

    def workdir(self, prefix: str) -> Path:
        return self.path(prefix)
