"""Fenced server paths: roots from the settings, ``..`` and symlinks resolved first, existence, hub ids by shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.paths import (
    SHARED_DATA_DIR,
    PathRefused,
    data_roots,
    fence_model,
    fence_path,
    hub_or_path,
    local_source,
    public_text,
    resolve_reference,
    root_labels,
)
from shared.settings import Settings


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "corpus").mkdir(parents=True)
    (r / "corpus" / "stories.txt").write_text("once upon a time\n")
    (r / "model").mkdir()
    (r / "model" / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "secret.txt").write_text("do not publish\n")
    return r.resolve()


def refused(call: object, *args: object, **kwargs: object) -> PathRefused:
    with pytest.raises(PathRefused) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_default_roots_are_the_artifacts_and_shared_data_in_embedded_mode_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SAELAB_DATA_ROOTS", "SAELAB_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    embedded = Settings(artifacts_dir=tmp_path / "a")  # type: ignore[arg-type]
    assert data_roots(embedded) == ((tmp_path / "a").resolve(), SHARED_DATA_DIR.resolve())
    distributed = Settings(broker_url="redis://h:6379/0", artifacts_dir=tmp_path)  # type: ignore[arg-type]
    assert data_roots(distributed) == ()


def test_roots_from_the_environment_split_on_pathsep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAELAB_DATA_ROOTS", f"{tmp_path / 'x'}:{tmp_path / 'y'}")
    monkeypatch.setenv("SAELAB_BROKER_URL", "redis://h:6379/0")
    assert data_roots(Settings()) == ((tmp_path / "x").resolve(), (tmp_path / "y").resolve())
    monkeypatch.setenv("SAELAB_DATA_ROOTS", " ")
    assert data_roots(Settings()) == ()  # set but empty: none, even in embedded mode
    assert Settings().redacted()["data_roots"] == []


def test_a_path_under_a_root_passes_resolved(root: Path) -> None:
    fenced = fence_path(str(root / "corpus" / ".." / "corpus" / "stories.txt"), "corpus", (root,), "file")
    assert fenced.resolved == root / "corpus" / "stories.txt"
    assert fenced.root == root and str(fenced.relative) == "corpus/stories.txt"
    assert fenced.reference == "@root/corpus/stories.txt"  # what the database stores: no server path
    assert fence_path(str(root), "corpus", (root,)).reference == "@root"


def test_references_name_roots_by_label_and_resolve_fenced_again(root: Path, tmp_path: Path) -> None:
    other = (tmp_path / "x" / "root").resolve()
    other.mkdir(parents=True)
    (other / "b.txt").write_text("b")
    roots = (root, other)
    assert list(root_labels(roots)) == ["root", "root-2"]
    assert hub_or_path(str(other / "b.txt"), "corpus", roots) == "@root-2/b.txt"
    assert resolve_reference("@root-2/b.txt", roots) == str(other / "b.txt")
    assert resolve_reference("@root/corpus", roots) == str(root / "corpus")
    assert resolve_reference("gpt2", roots) == "gpt2"
    assert hub_or_path("@root/corpus/stories.txt", "corpus", roots) == "@root/corpus/stories.txt"
    assert "no data root labelled" in str(refused(resolve_reference, "@nope/a", roots))
    assert "outside" in str(refused(resolve_reference, "@root/../../etc/passwd", roots))
    assert "outside" in str(refused(hub_or_path, "@root/../secret.txt", "corpus", roots))


def test_loaders_resolve_references_under_their_own_roots(root: Path) -> None:
    settings = Settings(data_roots=(root,))  # type: ignore[arg-type]
    assert local_source("@root/model", settings) == str(root / "model")
    assert local_source("gpt2", settings) == "gpt2" and local_source(None, settings) is None
    assert "no data root" in str(refused(local_source, "@root/model", Settings(data_roots=())))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["/etc", "/etc/passwd", "../../etc/passwd", "~", "{root}/../secret.txt"])
def test_paths_outside_the_roots_are_refused_naming_field_and_roots(root: Path, value: str) -> None:
    err = refused(fence_path, value.format(root=root), "collect.corpus", (root,))
    assert err.field == "collect.corpus"
    assert str(err).startswith("collect.corpus: ") and "outside the allowed data roots" in str(err)
    assert str(err).endswith("(@root)")  # the roots named by label, not by their server folders


def test_a_symlink_under_a_root_pointing_out_is_refused(root: Path) -> None:
    (root / "corpus" / "link").symlink_to(root.parent / "secret.txt")
    (root / "escape").symlink_to("/etc")
    assert "outside" in str(refused(fence_path, str(root / "corpus" / "link"), "corpus", (root,)))
    assert "outside" in str(refused(fence_path, str(root / "escape" / "passwd"), "corpus", (root,)))


def test_missing_wrong_kind_empty_and_no_roots_are_refused(root: Path) -> None:
    assert "does not exist" in str(refused(fence_path, str(root / "nope.txt"), "corpus", (root,)))
    assert "not a file" in str(refused(fence_path, str(root / "corpus"), "corpus", (root,), "file"))
    assert "not a folder" in str(
        refused(fence_path, str(root / "corpus" / "stories.txt"), "m", (root,), "dir")
    )
    assert "must not be empty" in str(refused(fence_path, " ", "corpus", (root,)))
    assert "NUL" in str(refused(fence_path, "a\x00b", "corpus", (root,)))
    assert "unpaired surrogate" in str(refused(fence_path, "a\ud800", "corpus", (root,)))
    assert "SAELAB_DATA_ROOTS" in str(refused(fence_path, str(root / "corpus"), "corpus", ()))


@pytest.mark.parametrize("value", ["gpt2", "roneneldan/TinyStories", "HuggingFaceTB/SmolLM2-135M"])
def test_hub_ids_pass_by_shape(root: Path, value: str) -> None:
    assert hub_or_path(value, "collect.model", (root,)) == value


@pytest.mark.parametrize(
    "value, words",
    [
        ("a/b/c", "outside"),  # three parts: a path, not a hub id
        ("/etc", "outside"),
        ("stories.txt", "outside"),  # a local file name: a path relative to the server's folder
        ("owner/..", "outside"),
        ("bad name", "neither a hub id"),
        ("-x", "neither a hub id"),
        ("a--b", "neither a hub id"),
    ],
)
def test_values_that_are_no_hub_id_are_fenced_as_paths(root: Path, value: str, words: str) -> None:
    assert words in str(refused(hub_or_path, value, "collect.corpus", (root,)))


def test_model_sources_and_gguf_files(root: Path) -> None:
    assert fence_model("smollm2", None, (root,)) == ("smollm2", None)
    assert fence_model("gpt2", "q8.gguf", (root,)) == ("gpt2", "q8.gguf")
    assert fence_model(str(root / "model"), "m.gguf", (root,)) == ("@root/model", "m.gguf")
    assert fence_model(str(root / "model" / "m.gguf"), None, (root,)) == ("@root/model/m.gguf", None)
    assert fence_model("@root/model", "m.gguf", (root,)) == ("@root/model", "m.gguf")
    err = refused(fence_model, str(root / "model"), "../../../etc/passwd", (root,), prefix="collect.")
    assert err.field == "collect.gguf_file" and "outside" in str(err)
    err = refused(fence_model, "gpt2", "../x.gguf", (root,), prefix="collect.")
    assert err.field == "collect.gguf_file" and "not a file name" in str(err)
    assert refused(fence_model, "/etc", None, (root,), prefix="collect.").field == "collect.model"
    assert refused(fence_model, "smollm2", "x.gguf", (root,)).field == "gguf_file"


def test_public_text_keeps_no_absolute_server_path(root: Path, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    settings = Settings(artifacts_dir=artifacts, data_roots=(root,))  # type: ignore[arg-type]
    text = (
        f"OSError: {artifacts}/cache/runs/abc/sae.safetensors: bad; corpus '{root}/corpus/stories.txt' failed; "
        f"model /usr/lib/python3/site-packages/x/model.py:12 and {artifacts} and ~/secret.txt; "
        "hub roneneldan/TinyStories, redis://h:6379/0, 3/4 done, 12 tokens/s"
    )
    out = public_text(text, settings)
    assert out == (
        "OSError: runs/abc/sae.safetensors: bad; corpus '@root/corpus/stories.txt' failed; "
        "model …/model.py:12 and . and …/secret.txt; "
        "hub roneneldan/TinyStories, redis://h:6379/0, 3/4 done, 12 tokens/s"
    )
    assert public_text("no paths here", settings) == "no paths here"
    assert public_text("loss 1.2 / 3 and ~ alone", settings) == "loss 1.2 / 3 and ~ alone"
