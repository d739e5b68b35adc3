"""TrainConfig's architecture keys: each validated strictly, named in errors, and every preset loads."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from shared.config import ConfigError, TrainConfig, dump_config, load_config, validate_config
from shared.sae import ARCHITECTURES

ROOT = Path(__file__).resolve().parents[2]


def bad(data: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        validate_config(TrainConfig, data, "train.yaml")


def test_the_config_offers_exactly_the_registry():
    assert set(get_args(TrainConfig.model_fields["architecture"].annotation)) == set(ARCHITECTURES)


@pytest.mark.parametrize("arch", ["topk", "batchtopk", "matryoshka_batchtopk"])
def test_k_is_required_for_the_topk_family_and_refused_elsewhere(arch):
    bad({"architecture": arch}, rf"train.yaml: k: required when architecture is '{arch}'")
    bad({"architecture": arch, "k": 9, "d_sae": 8}, "k: 9 is larger than d_sae")
    assert TrainConfig(architecture=arch, k=4).k == 4
    bad({"architecture": "jumprelu", "k": 4}, "k: only valid when architecture is one of batchtopk")


@pytest.mark.parametrize(
    ("arch", "key", "value", "owner"),
    [
        ("topk", "topk_threshold_lr", 0.5, "batchtopk or matryoshka_batchtopk"),
        ("batchtopk", "matryoshka_widths", [4, 8], "matryoshka_batchtopk"),
        ("relu", "jumprelu_bandwidth", 0.1, "jumprelu"),
        ("gated", "l0_coefficient", 3.0, "jumprelu"),
        ("batchtopk", "l0_warmup_steps", 10, "jumprelu"),
        ("matryoshka_batchtopk", "jumprelu_sparsity_loss", "tanh", "jumprelu"),
        ("jumprelu", "resample_frequency", 100, "relu or topk"),
        ("jumprelu", "scale_l1_by_decoder_norm", True, "gated or relu or topk"),
    ],
)
def test_a_key_of_another_architecture_is_an_error_naming_it(arch, key, value, owner):
    k = {"k": 4} if arch in ("topk", "batchtopk", "matryoshka_batchtopk") else {}
    bad(
        {"architecture": arch, key: value, **k}, rf"train.yaml: {key}: only used when architecture is {owner}"
    )


def test_defaults_of_other_architectures_keys_round_trip(tmp_path: Path):
    """train_config.yaml holds every key (defaults too); it must load back for every architecture."""
    for arch in ARCHITECTURES:
        cfg = TrainConfig(
            architecture=arch, k=4 if arch in ("topk", "batchtopk", "matryoshka_batchtopk") else None
        )
        dump_config(cfg, tmp_path / f"{arch}.yaml")
        assert load_config(TrainConfig, tmp_path / f"{arch}.yaml") == cfg


def test_matryoshka_widths_are_checked_and_end_at_d_sae():
    base = {"architecture": "matryoshka_batchtopk", "k": 4, "d_sae": 64}
    bad(base | {"matryoshka_widths": [16, 8]}, "matryoshka_widths: .* strictly increasing")
    bad(base | {"matryoshka_widths": [0, 8]}, "matryoshka_widths: .* positive")
    bad(base | {"matryoshka_widths": []}, "matryoshka_widths")
    bad(base | {"matryoshka_widths": [8, 80]}, "matryoshka_widths: 80 is larger than d_sae")
    assert TrainConfig(**base, matryoshka_widths=[8, 32]).matryoshka_levels() == (8, 32, 64)
    assert TrainConfig(**base, matryoshka_widths=[8, 64]).matryoshka_levels() == (8, 64)
    assert TrainConfig(**base).matryoshka_levels() == (4, 8, 16, 32, 64)


def test_jumprelu_keys_have_bounds():
    bad({"architecture": "jumprelu", "jumprelu_bandwidth": 0}, "jumprelu_bandwidth: .*greater than 0")
    bad({"architecture": "jumprelu", "jumprelu_sparsity_loss": "l1"}, "jumprelu_sparsity_loss")
    bad({"architecture": "jumprelu", "l0_coefficient": -1}, "l0_coefficient")
    bad({"architecture": "batchtopk", "k": 4, "topk_threshold_lr": 1.5}, "topk_threshold_lr")


@pytest.mark.parametrize("preset", sorted(p.name for p in (ROOT / "configs").glob("train_*.yaml")))
def test_every_training_preset_loads(preset):
    cfg = load_config(TrainConfig, ROOT / "configs" / preset)
    assert cfg.architecture in ARCHITECTURES


def test_there_is_a_preset_per_architecture():
    archs = {load_config(TrainConfig, p).architecture for p in (ROOT / "configs").glob("train_*.yaml")}
    assert archs >= set(ARCHITECTURES)


@pytest.mark.parametrize("preset", sorted(p.name for p in (ROOT / "configs").glob("sweep_*.yaml")))
def test_every_sweep_preset_loads_with_several_architectures(preset):
    from shared.sweep_config import SweepConfig

    members = load_config(SweepConfig, ROOT / "configs" / preset).members()
    assert len({cfg.architecture for _, cfg in members}) >= 2
