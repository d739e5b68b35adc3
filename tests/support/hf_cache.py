"""A Hugging Face Hub cache built on disk in huggingface_hub's own layout, so offline downloads find real files.

    <cache>/models--<org>--<name>/blobs/<sha256>            file contents, stored once
    <cache>/models--<org>--<name>/snapshots/<commit>/<path>  relative symlinks to the blobs
    <cache>/models--<org>--<name>/refs/main                  the commit ``main`` points at

With ``HF_HUB_CACHE=<cache>`` and ``HF_HUB_OFFLINE=1``, ``hf_hub_download(repo_id, path)`` resolves ``main`` through
``refs/main`` and returns the snapshot file, exactly as after a real download; ``huggingface_hub.scan_cache_dir``
lists the repo (the tests check that it does).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def add_repo(cache: Path, repo_id: str, files: dict[str, bytes | Path], revision: str = "main") -> str:
    """Put ``files`` (path in repo -> bytes or a local file) into the cache as one commit of ``repo_id``; its hash."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    contents = {
        rel: data if isinstance(data, bytes) else Path(data).read_bytes() for rel, data in files.items()
    }
    commit = hashlib.sha1(
        b"".join(rel.encode() + hashlib.sha256(data).digest() for rel, data in sorted(contents.items()))
    ).hexdigest()
    for rel, data in contents.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = repo / "snapshots" / commit / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(os.path.relpath(blob, link.parent), link)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / revision).write_text(commit)
    return commit


def add_folder(cache: Path, repo_id: str, folder: Path, prefix: str = "") -> str:
    """Every file under ``folder`` into the cache under ``prefix/`` of ``repo_id``; the commit hash."""
    files: dict[str, bytes | Path] = {
        str(Path(prefix) / p.relative_to(folder)) if prefix else str(p.relative_to(folder)): p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    return add_repo(cache, repo_id, files)
