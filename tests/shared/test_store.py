"""Artifact store on a local directory and on a real S3 server (SeaweedFS): checksums, directories, multipart."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from shared.store import (
    MANIFEST,
    ArtifactNotFound,
    ArtifactStore,
    ChecksumMismatch,
    IncompleteDirectory,
    LocalStore,
    S3Store,
    StoreError,
    fetch_latest_checkpoint,
    mirror_dir,
    upload_checkpoint,
)

pytestmark = pytest.mark.services


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    s3 = request.getfixturevalue("s3_server")
    bucket = f"test-{os.urandom(4).hex()}"
    return S3Store(s3.endpoint, s3.access_key, s3.secret_key, bucket, cache_dir=tmp_path / "cache",
                   part_size=5 * 1024 * 1024)  # fmt: skip


def _corrupt(store: ArtifactStore, key: str) -> None:
    """Change an object's bytes behind the store's back (keeping its recorded checksum)."""
    if isinstance(store, LocalStore):
        store.path(key).write_bytes(b"tampered")
    else:
        assert isinstance(store, S3Store)
        sha = store.stat(key).sha256  # type: ignore[union-attr]
        store.client.put_object(store.bucket, key, io.BytesIO(b"tampered"), 8, metadata={"sha256": sha})


def test_roundtrip_records_and_verifies_sha256(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(os.urandom(1000))
    info = store.put_file("runs/r1/sae.safetensors", src)
    assert info.size == 1000 and store.stat("runs/r1/sae.safetensors").sha256 == info.sha256  # type: ignore[union-attr]
    out = store.get_file("runs/r1/sae.safetensors", tmp_path / "out" / "w.bin")
    assert out.read_bytes() == src.read_bytes()
    store.put_json("runs/r1/eval.json", {"l0": 12.5})
    assert store.get_json("runs/r1/eval.json") == {"l0": 12.5}
    assert store.keys("runs/r1") == ["runs/r1/eval.json", "runs/r1/sae.safetensors"]


def test_corrupted_object_is_refused_with_its_key(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes("datasets/d1/meta.json", b'{"format": "x"}')
    _corrupt(store, "datasets/d1/meta.json")
    with pytest.raises(ChecksumMismatch, match="datasets/d1/meta.json"):
        store.get_bytes("datasets/d1/meta.json")
    with pytest.raises(ChecksumMismatch):
        store.get_file("datasets/d1/meta.json", tmp_path / "meta.json")


def test_missing_key(store: ArtifactStore, tmp_path: Path) -> None:
    assert store.stat("runs/none/cfg.json") is None and not store.exists("runs/none/cfg.json")
    with pytest.raises(ArtifactNotFound, match="runs/none/cfg.json"):
        store.get_file("runs/none/cfg.json", tmp_path / "x")


def test_directory_upload_download_with_manifest(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "dataset"
    (src / "sub").mkdir(parents=True)
    (src / "meta.json").write_text("{}")
    (src / "shard-00000.h5").write_bytes(os.urandom(3000))
    (src / "sub" / "x.txt").write_text("x")
    (src / "shard-00001.h5.tmp").write_bytes(b"half written")
    store.put_dir("datasets/d2", src)
    assert store.has_dir("datasets/d2")
    manifest = store.manifest("datasets/d2")
    assert set(manifest["files"]) == {"meta.json", "shard-00000.h5", "sub/x.txt"}  # type: ignore[index]
    dest = store.get_dir("datasets/d2", tmp_path / "copy")
    assert (dest / "shard-00000.h5").read_bytes() == (src / "shard-00000.h5").read_bytes()
    assert (dest / "sub" / "x.txt").read_text() == "x" and not (dest / "shard-00001.h5.tmp").exists()


def test_directory_without_manifest_is_incomplete(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes("runs/r2/checkpoints/step-00000010/state.json", b"{}")
    assert not store.has_dir("runs/r2/checkpoints/step-00000010")
    with pytest.raises(IncompleteDirectory, match=MANIFEST):
        store.get_dir("runs/r2/checkpoints/step-00000010", tmp_path / "ckpt")


def test_latest_complete_checkpoint_is_fetched_and_old_ones_pruned(
    store: ArtifactStore, tmp_path: Path
) -> None:
    local = tmp_path / "run" / "checkpoints"
    for step in (10, 20, 30):
        ckpt = local / f"step-{step:08d}"
        ckpt.mkdir(parents=True)
        (ckpt / "state.json").write_text(f'{{"step": {step}}}')
        for old in sorted(local.iterdir())[:-2]:  # the trainer keeps the newest two, then calls the hook
            (old / "state.json").unlink()
            old.rmdir()
        upload_checkpoint(store, "r3", ckpt)
    store.put_bytes("runs/r3/checkpoints/step-00000040/state.json", b"{}")  # upload never finished
    assert store.subdirs("runs/r3/checkpoints") == ["step-00000020", "step-00000030"]
    fresh = tmp_path / "other-worker"
    assert fetch_latest_checkpoint(store, "r3", fresh) == 30
    assert (fresh / "checkpoints" / "step-00000030" / "state.json").read_text() == '{"step": 30}'


def test_s3_large_file_goes_up_in_parts_and_bucket_is_created(s3_server, tmp_path: Path) -> None:  # noqa: ANN001
    bucket = f"new-{os.urandom(4).hex()}"
    store = S3Store(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, bucket,
                    cache_dir=tmp_path / "cache", part_size=5 * 1024 * 1024)  # fmt: skip
    assert store.client.bucket_exists(bucket)
    big = tmp_path / "shard.h5"
    big.write_bytes(os.urandom(11 * 1024 * 1024 + 123))
    info = store.put_file("datasets/big/shard-00000.h5", big)
    etag = store.client.stat_object(bucket, "datasets/big/shard-00000.h5").etag
    assert etag.endswith("-3"), f"expected a 3-part multipart upload, got etag {etag}"
    out = store.get_file("datasets/big/shard-00000.h5", tmp_path / "back.h5")
    assert out.stat().st_size == info.size and out.read_bytes() == big.read_bytes()


@pytest.mark.parametrize(
    ("access", "secret", "code"),
    [(None, "wrong-secret", "SignatureDoesNotMatch"), ("wrong-access-key", None, "InvalidAccessKeyId")],
)
def test_s3_bad_credentials_are_rejected(s3_server, tmp_path: Path, access, secret, code) -> None:  # noqa: ANN001
    with pytest.raises(StoreError, match="credentials rejected") as err:
        S3Store(s3_server.endpoint, access or s3_server.access_key, secret or s3_server.secret_key, "saelab",
                cache_dir=tmp_path)  # fmt: skip
    assert f"({code})" in str(err.value) and "SAELAB_S3_SECRET_KEY" in str(err.value)
    assert "wrong-secret" not in str(err.value)


def test_mirror_dir_stores_exactly_the_source_keeping_excluded_parts(
    store: ArtifactStore, tmp_path: Path
) -> None:
    src = tmp_path / "made-by-the-cli"
    (src / "checkpoints" / "step-1").mkdir(parents=True)
    (src / "cfg.json").write_text("{}")
    (src / "checkpoints" / "step-1" / "w.bin").write_bytes(b"ckpt")
    store.put_bytes("runs/r/old.txt", b"from an older registration")
    store.put_bytes("runs/r/results/summary.json", b"{}")  # its own prefix: excluded, kept
    skip = ("checkpoints/", "results/")
    store.put_dir("runs/r", mirror_dir(store, "runs/r", src, link=True, exclude=skip), exclude=skip)
    assert store.keys("runs/r") == ["runs/r/MANIFEST.json", "runs/r/cfg.json", "runs/r/results/summary.json"]
    assert store.get_bytes("runs/r/cfg.json") == b"{}"
    if isinstance(store, LocalStore):  # linked, so the big files of a dataset are not stored twice
        assert os.path.samefile(store.path("runs/r/cfg.json"), src / "cfg.json")
    # a writer that replaces the file (a new inode): the store follows on the next mirror
    (src / "cfg.json").unlink()
    (src / "cfg.json").write_text('{"changed": 1}')
    store.put_dir("runs/r", mirror_dir(store, "runs/r", src, link=True, exclude=skip), exclude=skip)
    assert store.get_bytes("runs/r/cfg.json") == b'{"changed": 1}'


def test_the_test_s3_server_refuses_anonymous_requests(s3_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Authentication is on: with the right keys an object is readable, without any signature it is not."""
    import httpx

    store = S3Store(
        s3_server.endpoint, s3_server.access_key, s3_server.secret_key, "saelab-auth", cache_dir=tmp_path
    )
    store.put_bytes("runs/r/secret.json", b"{}")
    assert store.get_bytes("runs/r/secret.json") == b"{}"
    anonymous = httpx.get(f"http://{s3_server.endpoint}/saelab-auth/runs/r/secret.json", timeout=10)
    assert anonymous.status_code == 403 and "AccessDenied" in anonymous.text, anonymous.text


def test_local_listing_skips_folders_that_vanish_while_it_walks(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The embedded trainer writes its checkpoints into the store's own folders (a temporary folder renamed into
    place, old ones pruned) while the gateway lists them: a folder that disappears mid-walk is left out of the
    listing, not an error."""
    import shutil

    store = LocalStore(tmp_path / "store")
    for key in (
        "runs/r/checkpoints/step-00000100/state.json",
        "runs/r/checkpoints/.tmp-step-00000200/state.json",
    ):
        store.path(key).parent.mkdir(parents=True, exist_ok=True)
        store.path(key).write_text("{}")
    scandir = os.scandir

    def renamed_meanwhile(path):  # noqa: ANN001, ANN202 - the writer's os.replace lands just before the scan
        if str(path).endswith(".tmp-step-00000200"):
            shutil.rmtree(path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", renamed_meanwhile)
    assert store.keys("runs/r/checkpoints") == ["runs/r/checkpoints/step-00000100/state.json"]
