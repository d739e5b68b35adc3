"""Fixtures: each family's tiny random model, saved once and loaded once per test session (see support.tiny_lms)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.tiny_lms import FAMILIES, perturb_norms, save_tiny

from shared.lm import LanguageModel, load_lm


@pytest.fixture(scope="session")
def family_dirs(tmp_path_factory: pytest.TempPathFactory, tiny_gpt2_dir: Path) -> Callable[[str], Path]:
    """``family_dirs(name)``: the saved tiny model of that family (built on first use)."""
    built: dict[str, Path] = {"gpt2": tiny_gpt2_dir}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = save_tiny(family, tmp_path_factory.mktemp(f"tiny-{family}"), tiny_gpt2_dir)
        return built[family]

    return get


_LOADED: dict[str, LanguageModel] = {}


@pytest.fixture(scope="session", params=FAMILIES)
def family_lm(request: pytest.FixtureRequest, family_dirs: Callable[[str], Path]) -> LanguageModel:
    """Each family's tiny model, loaded once per session through ``load_lm`` (GPT-2's norms perturbed too)."""
    family = request.param
    if family not in _LOADED:
        lm = load_lm(str(family_dirs(family)))
        if family == "gpt2":
            perturb_norms(lm.model)
        _LOADED[family] = lm
    return _LOADED[family]
