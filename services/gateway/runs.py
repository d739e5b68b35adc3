"""GraphQL domain ``runs``: training runs (config, eval card, curves, density histogram), datasets, metrics."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.gateway.auth import ReadAccess
from services.gateway.common import JSON, Histogram, Listening, ctx, finite, loaders
from services.gateway.errors import BadInput, NotFound
from services.gateway.jobs import JobStatus
from shared.db import models as m
from shared.db.repositories.datasets import list_datasets
from shared.db.repositories.runs import list_runs
from shared.jobs import events

_ARTIFACT_STATUS = {
    m.ArtifactStatus.ready.value: JobStatus.SUCCEEDED,
    m.ArtifactStatus.failed.value: JobStatus.FAILED,
}

# eval.json key -> EvalCard field; the first key present wins (tolerates both spellings of the CE/KL names).
_EVAL_KEYS: dict[str, tuple[str, ...]] = {
    "explained_variance": ("explained_variance",),
    "l0": ("l0",),
    "mse": ("mse",),
    "ce_loss_recovered": ("ce_loss_recovered", "ce_recovered"),
    "ce_loss_clean": ("ce_loss_clean", "ce_clean"),
    "ce_loss_reconstructed": ("ce_loss_reconstructed", "ce_loss_sae", "ce_reconstructed"),
    "ce_loss_zero_ablated": ("ce_loss_zero_ablated", "ce_loss_zero_ablation", "ce_loss_zero"),
    "kl_divergence": ("kl_divergence", "kl_div", "kl"),
    "dead_fraction": ("dead_fraction",),
    "dense_fraction": ("dense_fraction",),
}

_METRIC_NAMES = (
    "loss",
    "mse",
    "l1",
    "l0",
    "explained_variance",
    "dead_fraction",
    "dense_fraction",
    "lr",
    "tokens_per_s",
)


# --------------------------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------------------------


@strawberry.type(description="Held-out evaluation of a trained SAE (eval.json).")
class EvalCard:
    explained_variance: float | None
    l0: float | None
    mse: float | None
    ce_loss_recovered: float | None
    ce_loss_clean: float | None
    ce_loss_reconstructed: float | None
    ce_loss_zero_ablated: float | None
    kl_divergence: float | None
    dead_fraction: float | None
    dense_fraction: float | None
    values: JSON = strawberry.field(description="Every number in eval.json, by its snake_case name.")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EvalCard:
        flat = _flatten(raw)
        fields = {
            name: next((finite(flat[k]) for k in keys if k in flat), None)
            for name, keys in _EVAL_KEYS.items()
        }
        values = {k: finite(v) for k, v in flat.items() if finite(v) is not None}
        return cls(**fields, values=JSON(values))


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    """Leaf values of a possibly nested eval.json by their own key (the first occurrence wins)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        for leaf, leaf_value in (_flatten(value) if isinstance(value, dict) else {key: value}).items():
            out.setdefault(leaf, leaf_value)
    return out


@strawberry.type(description="One logged training step (a metrics.jsonl row).")
class MetricPoint:
    run_id: strawberry.ID
    step: int
    loss: float | None
    mse: float | None
    l1: float | None
    l0: float | None
    explained_variance: float | None
    dead_fraction: float | None
    dense_fraction: float | None
    lr: float | None
    tokens_per_s: float | None
    values: JSON = strawberry.field(description="Every metric logged at this step, by its snake_case name.")

    @classmethod
    def from_values(cls, run_id: str, step: int, values: dict[str, Any]) -> MetricPoint:
        clean = {k: finite(v) for k, v in values.items() if k != "step" and finite(v) is not None}
        named = {name: clean.get(name) for name in _METRIC_NAMES}
        return cls(run_id=strawberry.ID(run_id), step=int(step), values=JSON(clean), **named)


@strawberry.type
class Dataset:
    _row: strawberry.Private[m.Dataset]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self._row.id)

    @strawberry.field
    def name(self) -> str:
        return self._row.name or self._row.id[:8]

    @strawberry.field
    def model(self) -> str:
        return self._row.model or str(self._row.config.get("model", ""))

    @strawberry.field
    def hook(self) -> str:
        return self._row.hook or str(self._row.config.get("hook", ""))

    @strawberry.field
    def corpus(self) -> str:
        return str((self._row.meta or {}).get("corpus") or self._row.config.get("corpus", ""))

    @strawberry.field
    def context_length(self) -> int:
        return int((self._row.meta or {}).get("context_length") or self._row.config.get("context_length", 0))

    @strawberry.field
    def d_in(self) -> int | None:
        return self._row.d_in

    @strawberry.field
    def n_contexts(self) -> int | None:
        value = (self._row.meta or {}).get("n_contexts")
        return None if value is None else int(value)

    @strawberry.field
    def n_tokens(self) -> int | None:
        return self._row.n_tokens

    @strawberry.field(description="True once collection finished and the shards are in the store.")
    def complete(self) -> bool:
        return self._row.status == m.ArtifactStatus.ready.value

    @strawberry.field
    def config(self) -> JSON:
        return JSON(self._row.config)

    @strawberry.field
    def created_at(self) -> datetime:
        return self._row.created_at


@strawberry.type
class Run:
    _row: strawberry.Private[m.Run]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self._row.id)

    @strawberry.field
    def name(self) -> str:
        return self._row.name or self._row.id[:8]

    @strawberry.field(
        description="QUEUED | RUNNING until trained, then SUCCEEDED; FAILED or CANCELLED otherwise."
    )
    async def status(self, info: Info) -> JobStatus:
        if self._row.status in _ARTIFACT_STATUS:
            return _ARTIFACT_STATUS[self._row.status]
        job = await loaders(info).train_jobs.load(self._row.id)
        return JobStatus.QUEUED if job is None else JobStatus(job.status)

    @strawberry.field
    def created_at(self) -> datetime:
        return self._row.created_at

    @strawberry.field
    def dataset_id(self) -> strawberry.ID:
        return strawberry.ID(self._row.dataset_id)

    @strawberry.field
    async def dataset(self, info: Info) -> Dataset | None:
        row = await loaders(info).datasets.load(self._row.dataset_id)
        return None if row is None else Dataset(_row=row)

    @strawberry.field
    async def model(self, info: Info) -> str:
        row = await loaders(info).datasets.load(self._row.dataset_id)
        return "" if row is None else row.model or str(row.config.get("model", ""))

    @strawberry.field
    async def hook(self, info: Info) -> str:
        row = await loaders(info).datasets.load(self._row.dataset_id)
        return "" if row is None else row.hook or str(row.config.get("hook", ""))

    @strawberry.field
    def architecture(self) -> str:
        return self._row.architecture or str(self._row.config.get("architecture", ""))

    @strawberry.field
    async def d_in(self, info: Info) -> int | None:
        dataset = await loaders(info).datasets.load(self._row.dataset_id)
        return None if dataset is None else dataset.d_in

    @strawberry.field
    def d_sae(self) -> int:
        return int(self._row.d_sae or self._row.config.get("d_sae", 0))

    @strawberry.field(description="The training config (TrainConfig, snake_case keys).")
    def config(self) -> JSON:
        return JSON(self._row.config)

    @strawberry.field(description="Training steps completed so far.")
    def steps_done(self) -> int:
        return self._row.steps_done

    @strawberry.field(description="Null until evaluated.")
    def eval(self) -> EvalCard | None:
        return None if not self._row.eval else EvalCard.from_dict(self._row.eval)

    @strawberry.field(
        description="Logged training steps, oldest first; `every` keeps every n-th (and the last)."
    )
    async def metrics(self, info: Info, every: int = 1) -> list[MetricPoint]:
        if every < 1:
            raise BadInput(f"every: must be at least 1 (got {every})", field="every")
        rows = await loaders(info).metrics.load(self._row.id)
        kept = [row for i, row in enumerate(rows) if i % every == 0 or i == len(rows) - 1]
        return [MetricPoint.from_values(self._row.id, row["step"], row) for row in kept]

    @strawberry.field(description="True once feature analysis results are loaded.")
    def analysed(self) -> bool:
        return self._row.analysed_at is not None

    @strawberry.field(description="Number of features with analysis results (0 before analysis).")
    async def feature_count(self, info: Info) -> int:
        return int((await loaders(info).feature_stats.load(self._row.id))["count"])

    @strawberry.field(
        description="Distinct grades present among the run's features (for the explorer filter)."
    )
    async def grades(self, info: Info) -> list[str]:
        order = {"High": 0, "Medium": 1, "Low": 2}
        grades = (await loaders(info).feature_stats.load(self._row.id))["grades"]
        return sorted(grades, key=lambda g: (order.get(g, 9), g))

    @strawberry.field(
        description="Run-level analysis summary (summary.json: dead/dense/alive counts, top lists)."
    )
    def summary(self) -> JSON | None:
        return None if self._row.summary is None else JSON(self._row.summary)

    @strawberry.field(
        description="Histogram of log10(density) over features with density > 0; zeroFraction = dead fraction."
    )
    async def density_histogram(self, info: Info, bins: int = 40) -> Histogram | None:
        if not 1 <= bins <= 200:
            raise BadInput(f"bins: must be between 1 and 200 (got {bins})", field="bins")
        stats = await loaders(info).feature_stats.load(self._row.id)
        return log_density_histogram(stats["log10"], bins)


def log_density_histogram(log10: list[float | None], bins: int) -> Histogram | None:
    """Equal-width bins over the finite log10 densities; dead features (None) counted in ``zero_fraction``."""
    if not log10:
        return None
    alive = [v for v in log10 if v is not None and math.isfinite(v)]
    zero_fraction = 1 - len(alive) / len(log10)
    if not alive:
        return Histogram(edges=[], counts=[], zero_fraction=zero_fraction)
    low, high = min(alive), max(alive)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    counts = [0] * bins
    for v in alive:
        counts[min(int((v - low) / width), bins - 1)] += 1
    return Histogram(
        edges=[low + i * width for i in range(bins + 1)], counts=counts, zero_fraction=zero_fraction
    )


# --------------------------------------------------------------------------------------------------------------
# Root fields
# --------------------------------------------------------------------------------------------------------------


@strawberry.type
class RunQueries:
    @strawberry.field(permission_classes=[ReadAccess], description="Every training run, newest first.")
    async def runs(self, info: Info) -> list[Run]:
        rows = await loaders(info).query(list_runs)
        return [Run(_row=row) for row in rows]

    @strawberry.field(permission_classes=[ReadAccess])
    async def run(self, info: Info, id: strawberry.ID) -> Run | None:
        row = await loaders(info).runs.load(str(id))
        return None if row is None else Run(_row=row)

    @strawberry.field(permission_classes=[ReadAccess], description="Every activation set, newest first.")
    async def datasets(self, info: Info) -> list[Dataset]:
        rows = await loaders(info).query(list_datasets)
        return [Dataset(_row=row) for row in rows]

    @strawberry.field(permission_classes=[ReadAccess])
    async def dataset(self, info: Info, id: strawberry.ID) -> Dataset | None:
        row = await loaders(info).datasets.load(str(id))
        return None if row is None else Dataset(_row=row)


async def require_run(info: Info, run_id: str) -> m.Run:
    """The run row, or NOT_FOUND naming the id."""
    row = await loaders(info).runs.load(str(run_id))
    if row is None:
        raise NotFound(f"run {run_id!r} not found", runId=str(run_id))
    return row


@strawberry.type
class RunSubscriptions:
    @strawberry.subscription(
        permission_classes=[ReadAccess],
        description="Each logged training step of a run as it happens (query Run.metrics for the steps before).",
    )
    async def training_metrics(self, info: Info, run_id: strawberry.ID) -> AsyncGenerator[MetricPoint, None]:
        await require_run(info, str(run_id))
        stream = await Listening(events.subscribe_metrics(str(run_id), ctx(info).state.shared)).started()
        try:
            async for event in stream:
                if isinstance(event, events.MetricsEvent):
                    yield MetricPoint.from_values(event.run_id, event.step, event.values)
        finally:
            await stream.aclose()
