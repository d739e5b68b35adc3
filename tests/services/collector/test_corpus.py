"""Tests for corpus reading (local .txt/.jsonl/folders, hub fail-fast), seeded shuffling and context packing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from services.collector.corpus import CorpusError, open_corpus, pack_contexts, split_text


@pytest.fixture(scope="module")
def tokenizer(tiny_gpt2_dir: Path):  # noqa: ANN201 - a transformers tokenizer
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2_dir)


def test_txt_documents_split_on_endoftext_or_blank_lines() -> None:
    assert split_text("One.\n<|endoftext|>\nTwo\nlines.\n<|endoftext|>\n\n") == ["One.", "Two\nlines."]
    assert split_text("Para one\nstill one.\n\n  \nPara two.\n") == ["Para one\nstill one.", "Para two."]


def test_jsonl_uses_text_field_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"story": "A cat."}) + "\n\n" + json.dumps({"story": "A dog."}) + "\n")
    corpus = open_corpus(str(path), text_field="story")
    assert sorted(corpus.documents(seed=0)) == ["A cat.", "A dog."]
    with pytest.raises(CorpusError, match=r"docs.jsonl:1: no string field 'text'"):
        list(open_corpus(str(path)).documents(seed=0))
    path.write_text('{"story": broken\n')
    with pytest.raises(CorpusError, match=r"docs.jsonl:1: not valid JSON"):
        list(open_corpus(str(path), text_field="story").documents(seed=0))


def test_folder_reads_txt_and_jsonl_and_ignores_other_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("First.\n\nSecond.")
    (tmp_path / "sub" / "b.jsonl").write_text(json.dumps({"text": "Third."}) + "\n")
    (tmp_path / "notes.md").write_text("not a corpus file")
    corpus = open_corpus(str(tmp_path))
    assert corpus.kind == "local"
    assert sorted(corpus.documents(seed=1)) == ["First.", "Second.", "Third."]


def test_shuffle_is_deterministic_per_seed(small_corpus: Path) -> None:
    corpus = open_corpus(str(small_corpus))
    first = list(corpus.documents(seed=0))
    assert first == list(corpus.documents(seed=0))
    other = list(corpus.documents(seed=1))
    assert other != first and sorted(other) == sorted(first)
    assert len(first) == len(split_text(small_corpus.read_text()))


def test_fingerprint_follows_names_and_contents(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Once upon a time.")
    before = open_corpus(str(tmp_path)).fingerprint
    assert open_corpus(str(tmp_path)).fingerprint == before
    (tmp_path / "a.txt").write_text("Once upon a time!")
    changed = open_corpus(str(tmp_path)).fingerprint
    (tmp_path / "a.txt").rename(tmp_path / "b.txt")
    assert len({before, changed, open_corpus(str(tmp_path)).fingerprint}) == 3


def test_missing_or_unsupported_local_corpus(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nope\.txt.*local path not found.*--corpus"):
        open_corpus(str(tmp_path / "nope.txt"))
    (tmp_path / "data.csv").write_text("x")
    with pytest.raises(CorpusError, match="unsupported file type '.csv'"):
        open_corpus(str(tmp_path / "data.csv"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no .txt or .jsonl"):
        open_corpus(str(tmp_path / "empty"))


def test_unreachable_hub_corpus_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    start = time.monotonic()
    with pytest.raises(
        CorpusError, match=r"'roneneldan/TinyStories'.*unreachable.*--corpus /path/to/stories.txt"
    ):
        open_corpus("roneneldan/TinyStories")
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("bos", [50256, None])
def test_packing_joins_documents_with_eos_and_prepends_bos(tokenizer, bos: int | None) -> None:  # noqa: ANN001
    docs = ["Once upon a time there was a cat.", "The dog ran.", "A very long story " * 20, "End."]
    eos = tokenizer.eos_token_id
    contexts = list(pack_contexts(docs, tokenizer, context_length=16, bos_token_id=bos, eos_token_id=eos))
    stream = [t for d in docs for t in [*tokenizer(d)["input_ids"], eos]]
    body = 15 if bos is not None else 16
    assert len(contexts) == len(stream) // body
    assert all(c.shape == (16,) and c.dtype == np.int32 for c in contexts)
    if bos is not None:
        assert all(c[0] == bos for c in contexts)
    joined = [t for c in contexts for t in c[16 - body :]]
    assert joined == stream[: len(joined)]


def test_packing_rejects_context_with_no_room(tokenizer) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="context_length"):
        next(pack_contexts(["x"], tokenizer, context_length=1, bos_token_id=0, eos_token_id=0))


def test_hub_corpus_streams_seeded_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub path with the network replaced by a local streaming dataset (no internet here)."""
    import datasets

    import shared.hub

    rows = [{"text": f"Story number {i}.", "id": i} for i in range(50)]
    opened: list[tuple[str, str]] = []

    def fake_load_dataset(
        name: str, split: str, revision: str | None, streaming: bool
    ) -> datasets.IterableDataset:
        assert streaming
        opened.append((name, split))
        return datasets.Dataset.from_list(rows).to_iterable_dataset(num_shards=2)

    monkeypatch.setattr(shared.hub, "hub_reachable", lambda: True)
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    corpus = open_corpus("someone/stories", split="validation")
    assert corpus.kind == "hub" and opened == []  # opened lazily, when documents are read
    first = list(corpus.documents(seed=0))
    assert opened == [("someone/stories", "validation")]
    assert first == list(corpus.documents(seed=0)) and first != list(corpus.documents(seed=1))
    assert sorted(first) == sorted(r["text"] for r in rows)
    assert corpus.fingerprint != open_corpus("someone/stories", split="train").fingerprint
    with pytest.raises(CorpusError, match="no string field 'story'"):
        next(open_corpus("someone/stories", text_field="story").documents(seed=0))
