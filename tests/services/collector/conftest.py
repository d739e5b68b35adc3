"""Collector test fixtures: a small collection config on the tiny GPT-2 and the small TinyStories corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import services.collector.collect as collect_module
from shared.config import CollectConfig
from shared.lm import LanguageModel, load_lm

MakeConfig = Callable[..., CollectConfig]
_LOADED: dict[tuple[Any, ...], LanguageModel] = {}


@pytest.fixture(autouse=True)
def reuse_loaded_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load each model once per session (the loader itself is tested in tests/shared/lm/)."""

    def cached(model: str, gguf_file: str | None = None, device: str = "cpu", **kwargs: Any) -> LanguageModel:
        key = (model, gguf_file, device, tuple(sorted(kwargs.items())))
        if key not in _LOADED:
            _LOADED[key] = load_lm(model, gguf_file, device, **kwargs)
        return _LOADED[key]

    monkeypatch.setattr(collect_module, "load_lm", cached)


@pytest.fixture
def make_cfg(tmp_path: Path, tiny_gpt2_dir: Path, small_corpus: Path) -> MakeConfig:
    """Build a CollectConfig: 10 contexts of 32 tokens in shards of 4 (3 shards), 2 contexts per forward."""

    def make(**overrides: Any) -> CollectConfig:
        values: dict[str, Any] = {
            "model": str(tiny_gpt2_dir),
            "hook": "blocks.2.hook_resid_pre",
            "corpus": str(small_corpus),
            "context_length": 32,
            "n_tokens": 320,
            "shard_contexts": 4,
            "batch_size": 2,
            "device": "cpu",
            "output": str(tmp_path / "acts"),
        }
        values.update(overrides)
        return CollectConfig(**values)

    return make
