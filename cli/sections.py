"""Reading a YAML file of named sections (a pipeline file, a demo preset): a mapping whose keys are all known."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from shared.config import ConfigError


def read_sections(path: Path, allowed: Sequence[str]) -> dict[str, Any]:
    """The YAML mapping in ``path``; a missing file, bad YAML, another type or a key not in ``allowed`` is a
    ConfigError naming the file (and the key)."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with sections {', '.join(allowed)}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown section (expected one of {', '.join(allowed)})")
    return data
