"""The demo's presets: ``configs/demo_<name>.yaml``, one section per stage, each validated by that stage's config.

A preset says how much to collect, what SAE to train and how to evaluate and analyse it. The demo fills in what
depends on where it runs: the model, hook and corpus (``cli.sources``) and the output folders (``--out``), so a
preset never names them (setting one is an error naming it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.errors import CliError
from cli.sections import read_sections
from cli.sources import DemoSources
from shared.config import (
    AnalyseConfig,
    CollectConfig,
    ConfigError,
    EvaluateConfig,
    TrainConfig,
    validate_config,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DEFAULT_PRESET = "default"
SECTIONS = ("collect", "train", "evaluate", "analyse")
RESERVED = {
    "collect": ("model", "gguf_file", "hook", "corpus", "output"),
    "train": ("activations", "output"),
    "evaluate": ("run",),
    "analyse": ("run",),
}
"""Keys the demo sets from its sources and ``--out``."""


@dataclass(frozen=True)
class DemoPreset:
    """One validated preset, its sources and output folders filled in."""

    name: str
    path: Path
    collect: CollectConfig
    train: TrainConfig
    evaluate: EvaluateConfig
    analyse: AnalyseConfig


def preset_names() -> list[str]:
    """Names of the presets in ``configs/`` (``demo_<name>.yaml``), the default first."""
    names = sorted(p.stem.removeprefix("demo_") for p in CONFIGS.glob("demo_*.yaml"))
    return sorted(names, key=lambda n: n != DEFAULT_PRESET)


def preset_path(preset: str) -> Path:
    """The file of a preset given by name (``configs/demo_<name>.yaml``) or as a path to a YAML file."""
    if preset.endswith((".yaml", ".yml")) or "/" in preset:
        path = Path(preset)
        if not path.is_file():
            raise CliError(f"preset {preset!r}: file not found")
        return path
    path = CONFIGS / f"demo_{preset}.yaml"
    if not path.is_file():
        raise CliError(
            f"preset {preset!r}: unknown; the presets are {', '.join(preset_names())} (or a .yaml file)"
        )
    return path


def default_out(preset: str) -> Path:
    """Where a preset's demo writes when ``--out`` is not given: ``artifacts/demo`` for the default preset,
    ``artifacts/demo-<name>`` for the others (so two presets never resume each other's folders)."""
    return Path("artifacts/demo" if preset == DEFAULT_PRESET else f"artifacts/demo-{Path(preset).stem}")


def load_preset(
    preset: str, sources: DemoSources, out: Path, overrides: dict[str, dict[str, Any]] | None = None
) -> DemoPreset:
    """Read and validate a preset, with the model, hook and corpus of ``sources`` and outputs under ``out``:
    ``out/activations`` and ``out/run``; ``overrides`` (stage -> keys, from ``--set STAGE.KEY=VALUE``) win over
    both."""
    overrides = overrides or {}
    path = preset_path(preset)
    sections = _read_sections(path)
    fixed: dict[str, dict[str, Any]] = {
        "collect": {"model": sources.model, "hook": sources.hook, "corpus": sources.corpus,
                    "output": str(out / "activations")},
        "train": {"activations": str(out / "activations"), "output": str(out / "run")},
        "evaluate": {"run": str(out / "run")},
        "analyse": {"run": str(out / "run")},
    }  # fmt: skip
    configs = {
        name: validate_config(cls, sections[name] | fixed[name] | overrides.get(name, {}), f"{path}: {name}")
        for name, cls in (
            ("collect", CollectConfig),
            ("train", TrainConfig),
            ("evaluate", EvaluateConfig),
            ("analyse", AnalyseConfig),
        )
    }
    return DemoPreset(name=Path(preset).stem.removeprefix("demo_"), path=path, **configs)  # type: ignore[arg-type]


def _read_sections(path: Path) -> dict[str, dict[str, Any]]:
    data = read_sections(path, SECTIONS)
    sections = {name: data.get(name) or {} for name in SECTIONS}
    for name, section in sections.items():
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: {name}: expected a mapping of keys to values")
        for key in RESERVED[name]:
            if key in section:
                raise ConfigError(
                    f"{path}: {name}: {key}: set by the demo (--model, --corpus, --out), not by a preset"
                )
    return sections
