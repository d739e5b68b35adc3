"""SAELens release names -> Hugging Face repo, folder, model and hook, from the table in ``releases.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).with_name("releases.yaml")
LAYOUTS = ("saelens", "gemma-npz")


class ReleaseError(ValueError):
    """An unknown release or SAE id; the message lists valid ones."""


@dataclass(frozen=True)
class ReleaseSAE:
    """One SAE of a release: where it lives on the Hub and what saelab needs to know to run it."""

    release: str
    sae_id: str
    repo_id: str
    path: str
    """Folder inside the repo holding the SAE's files."""
    model: str
    """Hugging Face id of the LM the SAE reads."""
    hook: str
    """TransformerLens hook name, e.g. ``blocks.8.hook_resid_pre``."""
    architecture: str
    """SAELens architecture name the folder must hold (``standard``, ``topk``, ``jumprelu``, ...)."""
    layout: str
    """``saelens`` (cfg.json + sae_weights.safetensors) or ``gemma-npz`` (params.npz, cfg built from this row)."""
    d_in: int | None = None
    norm_scaling_factor: float | None = None
    """SAELens's stored factor for ``normalize_activations: expected_average_only_in`` SAEs."""
    config_overrides: dict[str, Any] = field(default_factory=dict)
    model_from_pretrained_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def hub_id(self) -> str:
        """``org/name:subfolder``, the form ``saelab pull`` takes."""
        return f"{self.repo_id}:{self.path}"


@cache
def _table() -> dict[str, Any]:
    data = yaml.safe_load(TABLE.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("releases"), dict):
        raise ReleaseError(f"{TABLE}: expected sections 'models' and 'releases'")
    return data


def release_names() -> list[str]:
    return sorted(_table()["releases"])


def hf_model_name(name: str) -> str:
    """The Hugging Face id for a SAELens / TransformerLens model name (``gpt2-small`` -> ``gpt2``); else ``name``."""
    return str(_table().get("models", {}).get(name, name))


def release_saes(release: str) -> list[ReleaseSAE]:
    """Every SAE of ``release`` in table order; an unknown release lists the known ones."""
    releases = _table()["releases"]
    if release not in releases:
        raise ReleaseError(f"unknown release {release!r}; known releases: {', '.join(release_names())}")
    spec = releases[release]
    layout = spec.get("layout", "saelens")
    if layout not in LAYOUTS:
        raise ReleaseError(f"{TABLE}: {release}: layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    out: list[ReleaseSAE] = []
    for item in spec["saes"]:
        layers = item.get("layers")
        for layer in range(layers[0], layers[1] + 1) if layers else [item.get("layer")]:
            fill = {"layer": layer}
            sae_id = str(item["id"]).format(**fill)
            hook = item.get("hook") or spec.get("hook", "")
            out.append(
                ReleaseSAE(
                    release=release,
                    sae_id=sae_id,
                    repo_id=spec["repo_id"],
                    path=str(item.get("path", item["id"])).format(**fill),
                    model=spec["model"],
                    hook=hook.format(**fill) if layer is not None else hook,
                    architecture=spec["architecture"],
                    layout=layout,
                    d_in=spec.get("d_in"),
                    norm_scaling_factor=item.get("norm_scaling_factor"),
                    config_overrides=dict(spec.get("config_overrides") or {}),
                    model_from_pretrained_kwargs=dict(spec.get("model_from_pretrained_kwargs") or {}),
                )
            )
    return out


def resolve_release(release: str, sae_id: str) -> ReleaseSAE:
    """The SAE ``sae_id`` of ``release``; an unknown id names a few valid ones."""
    saes = release_saes(release)
    for sae in saes:
        if sae.sae_id == sae_id:
            return sae
    examples = ", ".join(s.sae_id for s in saes[:5])
    raise ReleaseError(
        f"release {release}: unknown SAE id {sae_id!r}; valid ids ({len(saes)}) include {examples}"
        f" (list them all: saelab import --release {release} --list)"
    )


def find_release(repo_id: str, path: str) -> ReleaseSAE | None:
    """The table row for a Hub folder, when one exists (so ``org/name:subfolder`` gets the table's model and hook)."""
    for release in release_names():
        for sae in release_saes(release):
            if sae.repo_id == repo_id and sae.path == path.strip("/"):
                return sae
    return None
