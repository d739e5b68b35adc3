"""Tests for the HDF5 activation-shard format: round trips, metadata, atomicity and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from shared.shards import (
    FORMAT,
    ActivationMeta,
    ActivationSet,
    ShardFormatError,
    append_shard,
    read_meta,
    shard_name,
    write_activation_set,
    write_meta,
    write_shard,
)

META = {"model": "tiny", "hook": "blocks.1.hook_resid_pre", "layer": 1, "hook_kind": "resid_pre", "seed": 3}


def _arrays(n: int = 5, t: int = 6, d: int = 4, dtype: type = np.float32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, t, d)).astype(dtype), rng.integers(0, 50_000, size=(n, t)).astype(np.int64)


@pytest.mark.parametrize("compression", ["lzf", "gzip", "none"])
def test_round_trip_over_shards(tmp_path: Path, compression: str) -> None:
    acts, tokens = _arrays()
    ds = write_activation_set(tmp_path, acts, tokens, shard_contexts=2, compression=compression, **META)
    assert (ds.n_shards, ds.n_contexts, ds.n_tokens, ds.d_in, ds.context_length) == (3, 5, 30, 4, 6)
    got = [ds.read_shard(i) for i in range(ds.n_shards)]
    np.testing.assert_array_equal(np.concatenate([a for a, _ in got]), acts)
    np.testing.assert_array_equal(np.concatenate([t for _, t in got]), tokens)
    assert got[0][0].dtype == np.float32 and got[0][1].dtype == np.int32
    np.testing.assert_array_equal(ds.read_tokens(2), tokens[4:])


def test_compression_filter_is_applied(tmp_path: Path) -> None:
    acts, tokens = _arrays()
    write_shard(tmp_path / "a.h5", acts, tokens, {}, "gzip")
    write_shard(tmp_path / "b.h5", acts, tokens, {}, "none")
    with h5py.File(tmp_path / "a.h5") as f, h5py.File(tmp_path / "b.h5") as g:
        assert f["activations"].compression == "gzip" and f["activations"].chunks is not None
        assert g["activations"].compression is None


def test_float16_storage_read_as_float32(tmp_path: Path) -> None:
    acts, tokens = _arrays(dtype=np.float16)
    ds = write_activation_set(tmp_path, acts, tokens, shard_contexts=8, **META)
    with h5py.File(ds.shard_path(0)) as f:
        assert f["activations"].dtype == np.float16
    got, _ = ds.read_shard(0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, acts.astype(np.float32))
    assert ds.read_shard(0, dtype=None)[0].dtype == np.float16
    assert ds.meta.dtype == "float16"


def test_meta_json_and_attrs(tmp_path: Path) -> None:
    acts, tokens = _arrays()
    ds = write_activation_set(tmp_path, acts, tokens, shard_contexts=2, corpus="c.txt", **META)
    data = json.loads((tmp_path / "meta.json").read_text())
    assert data["format"] == FORMAT and data["complete"] is True
    assert data["shards"] == [
        {"file": "shard-00000.h5", "n_contexts": 2},
        {"file": "shard-00001.h5", "n_contexts": 2},
        {"file": "shard-00002.h5", "n_contexts": 1},
    ]
    assert ds.meta["hook"] == ds.meta.hook == META["hook"] and ds.meta.get("missing", 7) == 7
    with h5py.File(ds.shard_path(1)) as f:
        assert f.attrs["hook"] == META["hook"] and f.attrs["d_in"] == 4 and f.attrs["shard_index"] == 1
        assert f.attrs["corpus"] == "c.txt"


def test_open_refuses_directory_without_meta(tmp_path: Path) -> None:
    acts, tokens = _arrays()
    write_shard(tmp_path / shard_name(0), acts, tokens, {})
    with pytest.raises(ShardFormatError, match="no meta.json"):
        ActivationSet.open(tmp_path)
    with pytest.raises(ShardFormatError, match="not found"):
        ActivationSet.open(tmp_path / "nope")


def test_open_refuses_wrong_format_and_missing_shard(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(ShardFormatError, match="other/9"):
        ActivationSet.open(tmp_path)
    acts, tokens = _arrays()
    write_activation_set(tmp_path, acts, tokens, shard_contexts=2, **META)
    (tmp_path / shard_name(1)).unlink()
    with pytest.raises(ShardFormatError, match="shard-00001.h5.*missing"):
        ActivationSet.open(tmp_path)


def test_stray_tmp_file_is_never_read_as_a_shard(tmp_path: Path) -> None:
    acts, tokens = _arrays()
    meta = ActivationMeta(d_in=4, context_length=6, shard_contexts=2, n_contexts=4, **META)
    write_meta(tmp_path, meta)
    meta = append_shard(tmp_path, meta, acts[:2], tokens[:2])
    # An interrupted write of shard 1: a truncated temp file that was never renamed or listed.
    (tmp_path / (shard_name(1) + ".tmp")).write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    ds = ActivationSet.open(tmp_path)
    assert ds.n_shards == 1 and not ds.complete
    np.testing.assert_array_equal(ds.read_shard(0)[0], acts[:2])
    with pytest.raises(IndexError, match="out of range"):
        ds.read_shard(1)
    with pytest.raises(ShardFormatError, match="incomplete"):
        ActivationSet.open(tmp_path, require_complete=True)


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    acts, tokens = _arrays()
    with pytest.raises(ValueError, match="compression"):
        write_shard(tmp_path / "x.h5", acts, tokens, {}, "zstd")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tokens shape"):
        write_shard(tmp_path / "x.h5", acts, tokens[:, :3], {})
    assert list(tmp_path.iterdir()) == []


def test_corrupt_listed_shard_names_the_file(tmp_path: Path) -> None:
    acts, tokens = _arrays()
    ds = write_activation_set(tmp_path, acts, tokens, shard_contexts=2, **META)
    ds.shard_path(0).write_bytes(b"garbage")
    with pytest.raises(ShardFormatError, match="shard-00000.h5"):
        ds.read_shard(0)


def test_shape_mismatch_with_meta_is_reported(tmp_path: Path) -> None:
    acts, tokens = _arrays()
    write_activation_set(tmp_path, acts, tokens, shard_contexts=2, **META)
    meta = read_meta(tmp_path).to_dict()
    meta["d_in"] = 8
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ShardFormatError, match="expected"):
        ActivationSet.open(tmp_path).read_shard(0)
