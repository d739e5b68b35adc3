"""The collect task's resume support: finished shards reach the store, and a new worker restores them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.fixtures import s3_server  # noqa: F401 - the session S3 server fixture

from shared.store import LocalStore, S3Store

pytestmark = pytest.mark.services


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_collection_keeps_finished_shards_for_a_new_worker(kind: str, tmp_path: Path, request) -> None:  # noqa: ANN001
    from services.collector.tasks import ShardSync, restore_partial

    if kind == "local":
        store = LocalStore(tmp_path / "store")
    else:
        s3 = request.getfixturevalue("s3_server")
        store = S3Store(s3.endpoint, s3.access_key, s3.secret_key, "shards", cache_dir=tmp_path / "cache")
    first = tmp_path / "worker-1" / "datasets" / "d"
    first.mkdir(parents=True)
    (first / "shard-00000.h5").write_bytes(b"shard zero")
    (first / "shard-00001.h5").write_bytes(b"shard one")
    (first / "shard-00002.h5.tmp").write_bytes(b"half")  # being written when the worker died
    meta = {"complete": False, "shards": [{"file": "shard-00000.h5", "n_contexts": 8},
                                          {"file": "shard-00001.h5", "n_contexts": 8}]}  # fmt: skip
    (first / "meta.json").write_text(json.dumps(meta))
    ShardSync(store, "datasets/d", first).sync()
    second = tmp_path / "worker-2" / "datasets" / "d"
    second.mkdir(parents=True)
    restored = restore_partial(store, "datasets/d", second)
    if kind == "local":  # the local store is the working directory itself: nothing to copy
        assert restored == 0
        return
    assert restored == 2
    assert (second / "shard-00001.h5").read_bytes() == b"shard one"
    assert json.loads((second / "meta.json").read_text()) == meta
    assert not (second / "shard-00002.h5.tmp").exists() and not store.has_dir("datasets/d")
