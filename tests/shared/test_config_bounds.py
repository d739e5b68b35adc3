"""Every config number is bounded above and finite; a refusal names the key; docs/api.md lists the bounds."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import pytest

from shared.config import ConfigError, StrictModel, TrainConfig, validate_config
from shared.config_bounds import CONFIG_SECTIONS, bounds_table, numeric_bounds

ROOT = Path(__file__).resolve().parents[2]


def _numeric(annotation: object) -> bool:
    args = typing.get_args(annotation)
    if annotation in (int, float):
        return True
    return any(_numeric(a) for a in args if a is not type(None))


def _numeric_keys(cls: type[StrictModel]) -> list[str]:
    return [name for name, info in cls.model_fields.items() if _numeric(info.annotation)]


@pytest.mark.parametrize("section", list(CONFIG_SECTIONS))
def test_every_number_has_an_upper_bound(section: str) -> None:
    cls = CONFIG_SECTIONS[section]
    bounds = numeric_bounds(cls)
    unbounded = [k for k in _numeric_keys(cls) if k != "matryoshka_widths" and not bounds.get(k, ("", ""))[1]]
    assert unbounded == []  # matryoshka_widths: at most 64 widths, each <= d_sae (the validator)


@pytest.mark.parametrize("section", list(CONFIG_SECTIONS))
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_for_every_number_naming_the_key(section: str, value: float) -> None:
    cls = CONFIG_SECTIONS[section]
    for key in _numeric_keys(cls):
        if key == "matryoshka_widths":
            continue
        data = {key: (value, 0.9) if key == "adam_betas" else value}
        with pytest.raises(ConfigError, match=rf"^{section}: {key}(\.0)?: "):
            validate_config(cls, data, section)


@pytest.mark.parametrize(
    "section, data, key",
    [  # the values of the issue-17 probe
        ("train", {"batch_size": 1e9}, "batch_size"),
        ("train", {"n_steps": 2**63}, "n_steps"),
        ("collect", {"n_tokens": 1e12}, "n_tokens"),
        ("train", {"lr": math.inf}, "lr"),
        ("train", {"lr": math.nan}, "lr"),
        ("train", {"d_sae": 1 << 20, "batch_size": 1 << 13}, "batch_size"),  # one step's latents > 16 GiB
        ("analyse", {"seed": -1}, "seed"),
        ("collect", {"seed": 2**64}, "seed"),
    ],
)
def test_the_probes_oversized_and_non_finite_values_are_refused(section: str, data: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{section}: {key}: "):
        validate_config(CONFIG_SECTIONS[section], data, section)


def test_defaults_and_the_largest_allowed_values_still_validate() -> None:
    assert TrainConfig(n_steps=10_000_000, batch_size=1 << 17, d_sae=1 << 15).n_steps == 10_000_000
    for cls in CONFIG_SECTIONS.values():
        cls()


def test_docs_api_lists_exactly_the_bounds_of_the_code() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    assert bounds_table() in text, (
        "docs/api.md 'Config bounds' is stale: paste shared.config_bounds.bounds_table()"
    )
