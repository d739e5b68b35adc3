"""The config of an SAE import (the first stage of an import pipeline): where the SAE comes from."""

from __future__ import annotations

from pydantic import Field, model_validator

from shared.config import StrictModel


class ImportConfig(StrictModel):
    """Where an SAE to import comes from (the first stage of an import pipeline): a folder or a Hub id, or a
    SAELens release and an SAE id of it."""

    source: str | None = None
    """A folder on the server (SAELens layout, Gemma Scope ``params.npz``, or saelab's own) or a Hugging Face Hub
    id ``org/name[:subfolder]``."""
    release: str | None = None
    """A SAELens release name (``saelab import --list``), with ``sae_id``."""
    sae_id: str | None = None
    """The SAE id within ``release``, e.g. ``blocks.8.hook_resid_pre``."""
    revision: str | None = None
    """Hub branch, tag or commit (Hub ids and releases)."""
    norm_scaling_factor: float | None = Field(None, gt=0)
    """For ``expected_average_only_in`` SAEs that store no scaling factor."""

    @model_validator(mode="after")
    def _one_source(self) -> ImportConfig:
        if self.source and (self.release or self.sae_id):
            raise ValueError("source: give a folder / Hub id or a release with an SAE id, not both")
        if not self.source and not (self.release and self.sae_id):
            raise ValueError("source: required (a folder or org/name[:subfolder]), or release + sae_id")
        return self

    @property
    def label(self) -> str:
        """What the user named, for messages and run names."""
        return self.source or f"{self.release}/{self.sae_id}"
