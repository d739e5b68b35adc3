"""The config of a sweep: several SAEs trained from one activation stream, each member a validated TrainConfig."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from shared.config import AnalyseConfig, EvaluateConfig, StrictModel, TrainConfig, describe_error

SWEEP_SHARED_KEYS = (
    "activations",
    "batch_size",
    "n_steps",
    "seed",
    "shuffle_buffer_tokens",
    "eval_fraction",
    "exclude_bos",
    "exclude_norm_multiple",
    "cache_in_ram",
    "device",
    "checkpoint_every",
)
"""TrainConfig keys every member of a sweep shares: they define the one batch stream (and where and when it is
checkpointed). Each member's trajectory is then exactly that of its own ``saelab train`` run."""
MAX_SWEEP_SAES = 32
_MEMBER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SweepConfig(StrictModel):
    """Train several SAEs (any mix of architectures, widths, k, L1 / L0 coefficients) on one activation stream:
    each batch is read once and fed to every member; then each member is evaluated (and analysed) like a run."""

    name: str = "sweep"
    """Name of the sweep; each member's run is named ``<name>/<member name>``."""
    activations: str = "artifacts/activations/default"
    """Directory of activation shards written by ``saelab collect`` (the one stream every member trains on)."""
    output: str = "artifacts/sweeps/default"
    """Sweep directory: each member's run directory is ``<output>/<member name>``."""
    common: dict[str, Any] = Field(default_factory=dict)
    """TrainConfig keys every member starts from (a member's own keys override them). The data keys
    (``SWEEP_SHARED_KEYS``: batch_size, n_steps, seed, ...) must end up equal in every member."""
    saes: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_SWEEP_SAES)
    """The members: TrainConfig keys each, plus an optional ``name`` (default ``<i>-<architecture>-<d_sae>``)."""
    evaluate: EvaluateConfig | None = None
    """Evaluate every member after training with these settings (``run`` is set per member); None = skip."""
    analyse: AnalyseConfig | None = None
    """Analyse every member's features after evaluation with these settings; None = skip."""
    parallel_members: Literal["auto"] | int = "auto"
    """How many members train at once on the CPU, each batch still fed to every member before the next: N > 1 runs
    N members side by side in threads, each op of a member on ``T // N`` of torch's ``T`` intra-op threads (set for
    the whole sweep, restored after), which uses a few cores better than one member at a time on all of them
    (small ops, top-k, Adam and the tracker do not scale across threads). 1 = one member after another on all
    ``T``: each member bit-identical to its own ``saelab train`` run. N > 1: each member bit-identical to its own
    run at ``T // N`` threads (``OMP_NUM_THREADS=<T // N> saelab train``); results never depend on which thread
    runs a member when. ``auto`` = ``min(members, T)`` on the CPU when both are at least 2, else 1. A GPU sweep
    always runs its members one after another (logged when N > 1 was asked)."""

    @field_validator("parallel_members", mode="before")
    @classmethod
    def _check_parallel(cls, value: Any) -> Any:
        if value == "auto" or (type(value) is int and 1 <= value <= MAX_SWEEP_SAES):
            return value
        raise ValueError(
            f"parallel_members: {value!r} must be 'auto' or a whole number from 1 to {MAX_SWEEP_SAES} "
            "(members trained at once; 1 = one after another)"
        )

    @model_validator(mode="after")
    def _check_members(self) -> SweepConfig:
        for key in ("output", "activations"):
            if key in self.common:
                raise ValueError(f"common.{key}: set by the sweep itself; use the top-level {key!r}")
        self.members()  # every member validates, names are unique, the data keys agree
        return self

    def member_names(self) -> list[str]:
        """Each member's name: its ``name`` key or ``<i>-<architecture>-<d_sae>``."""
        names = []
        for i, sae in enumerate(self.saes):
            arch = sae.get("architecture", self.common.get("architecture", "relu"))
            d_sae = sae.get("d_sae", self.common.get("d_sae", TrainConfig.model_fields["d_sae"].default))
            name = sae.get("name", f"{i:02d}-{arch}-{d_sae}")
            if not isinstance(name, str) or not _MEMBER_NAME.match(name):
                raise ValueError(
                    f"saes.{i}.name: {name!r} must be 1-64 letters, digits, '.', '_' or '-' (it names a folder)"
                )
            names.append(name)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"saes: member names must be unique; repeated: {', '.join(dupes)}")
        return names

    def members(self) -> list[tuple[str, TrainConfig]]:
        """(name, TrainConfig) per member, validated; raises ValueError naming ``saes.<i>.<key>``."""
        out: list[tuple[str, TrainConfig]] = []
        for i, (name, sae) in enumerate(zip(self.member_names(), self.saes, strict=True)):
            if "output" in sae or "activations" in sae:
                raise ValueError(f"saes.{i}: output and activations are set by the sweep; leave them out")
            data = self.common | {k: v for k, v in sae.items() if k != "name"}
            data |= {"activations": self.activations, "output": str(Path(self.output) / name)}
            try:
                cfg = TrainConfig.model_validate(data)
            except ValidationError as err:
                raise ValueError(
                    describe_error(err, f"saes.{i}").replace(f"saes.{i}: ", f"saes.{i}.", 1)
                ) from None
            out.append((name, cfg))
        first_name, first = out[0]
        for name, cfg in out[1:]:
            for key in SWEEP_SHARED_KEYS:
                if getattr(cfg, key) != getattr(first, key):
                    raise ValueError(
                        f"saes.{self.member_names().index(name)}.{key}: {getattr(cfg, key)!r} differs from "
                        f"{getattr(first, key)!r} in {first_name!r}; a sweep feeds one batch stream to every SAE, "
                        f"so {', '.join(SWEEP_SHARED_KEYS[1:])} must match (set them under common)"
                    )
        return out
