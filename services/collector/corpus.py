"""Corpus readers (HF datasets streaming, local .txt/.jsonl files and folders) and packing into token contexts.

A corpus yields documents in an order fixed by the seed; ``pack_contexts`` tokenises them, joins them with the
EOS token and cuts the stream into contexts of ``context_length`` tokens, each starting with BOS when asked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

DOC_SEPARATOR = "<|endoftext|>"
LOCAL_SUFFIXES = (".txt", ".jsonl")
HUB_SHUFFLE_BUFFER = 10_000
_TOKENIZE_BATCH = 64
_BLANK_LINES = re.compile(r"\r?\n[ \t]*\r?\n")


class CorpusError(ValueError):
    """The corpus is missing, unreachable or malformed; the message names it and says what to do."""


def _local_hint() -> str:
    return (
        "use a local corpus instead: `--corpus /path/to/stories.txt` (documents separated by <|endoftext|> lines "
        "or blank lines), a .jsonl file with a text field, or a folder of them"
    )


# --------------------------------------------------------------------------------------------------------------
# Local files
# --------------------------------------------------------------------------------------------------------------


def local_files(path: Path) -> list[Path]:
    """The .txt/.jsonl files of a corpus path (the file itself, or every one under a folder, sorted)."""
    if path.is_file():
        if path.suffix not in LOCAL_SUFFIXES:
            raise CorpusError(
                f"corpus {str(path)!r}: unsupported file type {path.suffix!r} (use .txt or .jsonl)"
            )
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in LOCAL_SUFFIXES)
    if not files:
        raise CorpusError(f"corpus {str(path)!r}: folder holds no .txt or .jsonl files")
    return files


def split_text(text: str) -> list[str]:
    """Documents of a .txt file: split on ``<|endoftext|>`` when present, otherwise on blank lines."""
    parts = text.split(DOC_SEPARATOR) if DOC_SEPARATOR in text else _BLANK_LINES.split(text)
    return [p.strip() for p in parts if p.strip()]


def read_jsonl(path: Path, text_field: str) -> list[str]:
    """The ``text_field`` of every JSON line; an error names the file, line and field."""
    docs = []
    with path.open() as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise CorpusError(f"{path}:{number}: not valid JSON: {err}") from None
            if not isinstance(row, dict) or not isinstance(row.get(text_field), str):
                raise CorpusError(f"{path}:{number}: no string field {text_field!r} (set text_field)")
            if row[text_field].strip():
                docs.append(row[text_field].strip())
    return docs


def read_documents(path: Path, text_field: str = "text") -> list[str]:
    """Documents of one local file, in file order."""
    if path.suffix == ".jsonl":
        return read_jsonl(path, text_field)
    return split_text(path.read_text(encoding="utf-8"))


def fingerprint_files(root: Path, files: list[Path]) -> str:
    """sha256 over each file's name (relative to the corpus root) and contents."""
    digest = hashlib.sha256()
    for path in files:
        name = path.name if root.is_file() else path.relative_to(root).as_posix()
        digest.update(name.encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Corpus sources
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """A document source: where it is, its fingerprint, and a seeded document iterator."""

    name: str
    kind: Literal["local", "hub"]
    fingerprint: str
    text_field: str = "text"
    split: str = "train"
    revision: str | None = None
    files: tuple[Path, ...] = field(default=())

    def documents(self, seed: int) -> Iterator[str]:
        """Every document, in an order fixed by ``seed``."""
        if self.kind == "local":
            return iter(self._local_documents(seed))
        return self._hub_documents(seed)

    def _local_documents(self, seed: int) -> list[str]:
        docs = [doc for path in self.files for doc in read_documents(path, self.text_field)]
        random.Random(seed).shuffle(docs)
        return docs

    def _hub_documents(self, seed: int) -> Iterator[str]:
        dataset = _load_hub_dataset(self.name, self.split, self.revision)
        for row in dataset.shuffle(seed=seed, buffer_size=HUB_SHUFFLE_BUFFER):
            text = row.get(self.text_field)
            if not isinstance(text, str):
                raise CorpusError(f"corpus {self.name!r}: rows have no string field {self.text_field!r}")
            if text.strip():
                yield text.strip()


def _looks_like_path(corpus: str) -> bool:
    return corpus.startswith((".", "/", "~")) or corpus.endswith(LOCAL_SUFFIXES) or corpus.count("/") > 1


def _load_hub_dataset(name: str, split: str, revision: str | None) -> Any:
    try:
        import datasets
    except ImportError:
        raise CorpusError(f"corpus {name!r}: streaming hub datasets needs `pip install datasets`") from None
    try:
        return datasets.load_dataset(name, split=split, revision=revision, streaming=True)
    except Exception as err:  # datasets raises many types (FileNotFound, ConnectionError, ValueError, ...)
        raise CorpusError(
            f"corpus {name!r} (split {split!r}): could not open: {err}; {_local_hint()}"
        ) from err


def open_corpus(
    corpus: str, split: str = "train", text_field: str = "text", revision: str | None = None
) -> Corpus:
    """A local file/folder when ``corpus`` exists on disk, otherwise an HF hub dataset name (streamed lazily)."""
    path = Path(corpus).expanduser()
    if path.exists():
        files = local_files(path)
        return Corpus(str(corpus), "local", fingerprint_files(path, files), text_field, files=tuple(files))
    if _looks_like_path(corpus):
        raise CorpusError(f"corpus {corpus!r}: local path not found; {_local_hint()}")
    from shared.hub import hub_reachable

    if not hub_reachable():
        raise CorpusError(
            f"corpus {corpus!r}: not a local path and the Hugging Face hub is unreachable "
            f"(offline or HF_HUB_OFFLINE set); {_local_hint()}"
        )
    key = json.dumps({"hub": corpus, "split": split, "revision": revision or "main"}, sort_keys=True)
    return Corpus(corpus, "hub", hashlib.sha256(key.encode()).hexdigest(), text_field, split, revision)


# --------------------------------------------------------------------------------------------------------------
# Packing
# --------------------------------------------------------------------------------------------------------------


def _token_stream(documents: Iterable[str], tokenizer: Any, eos_token_id: int | None) -> Iterator[list[int]]:
    """Token ids of each document, followed by EOS when the tokenizer has one; tokenised in batches."""
    docs = iter(documents)
    while batch := list(islice(docs, _TOKENIZE_BATCH)):
        encoded = tokenizer(batch, add_special_tokens=False, verbose=False)["input_ids"]
        for ids in encoded:
            yield [*ids, eos_token_id] if eos_token_id is not None else list(ids)


def pack_contexts(
    documents: Iterable[str],
    tokenizer: Any,
    context_length: int,
    bos_token_id: int | None,
    eos_token_id: int | None,
) -> Iterator[np.ndarray]:
    """Pack documents into int32 contexts of ``context_length`` tokens: documents are joined with EOS and cut
    into consecutive pieces; each context starts with ``bos_token_id`` when one is given. A final piece too short
    to fill a context is dropped."""
    body = context_length - (bos_token_id is not None)
    if body < 1:
        raise ValueError(f"context_length: {context_length} leaves no room after BOS")
    head = [bos_token_id] if bos_token_id is not None else []
    buffer: list[int] = []
    for ids in _token_stream(documents, tokenizer, eos_token_id):
        buffer.extend(ids)
        start = 0
        while len(buffer) - start >= body:
            yield np.asarray(head + buffer[start : start + body], dtype=np.int32)
            start += body
        del buffer[:start]


def batched_contexts(contexts: Iterator[np.ndarray], batch: int) -> Iterator[np.ndarray]:
    """Stack consecutive contexts into [<=batch, T] arrays."""
    while rows := list(islice(contexts, batch)):
        yield np.stack(rows)
