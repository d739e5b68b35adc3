"""GraphQL domain ``runs``: training runs (config, eval card, curves, density histogram), datasets, metrics."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.gateway.auth import ReadAccess, read_field
from services.gateway.common import JSON, Histogram, Listening, ctx, finite, loaders, require_run
from services.gateway.errors import BadInput
from services.gateway.job_types import JobStatus
from shared.db import models as m
from shared.db.repositories.datasets import list_datasets
from shared.db.repositories.runs import list_runs
from shared.jobs import events
from shared.paths import public_json, public_text

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
        named = {name: clean.get(name) for name in _NAMED_METRICS}
        return cls(run_id=strawberry.ID(run_id), step=int(step), values=JSON(clean), **named)


# The metrics MetricPoint names as fields (the rest are in its ``values``): its own fields, declared once.
_NAMED_METRICS = tuple(
    f.name for f in dataclasses.fields(MetricPoint) if f.name not in ("run_id", "step", "values")
)


@strawberry.type
class Dataset:
    id: strawberry.ID
    name: str
    model: str
    hook: str
    corpus: str
    context_length: int
    d_in: int | None
    n_contexts: int | None
    n_tokens: int | None
    complete: bool = strawberry.field(
        description="True once collection finished and the shards are in the store."
    )
    config: JSON
    created_at: datetime

    @classmethod
    def from_row(cls, row: m.Dataset) -> Dataset:
        meta = row.meta or {}
        n_contexts = meta.get("n_contexts")
        return cls(
            id=strawberry.ID(row.id),
            name=row.name or row.id[:8],
            model=_model_of(row),
            hook=_hook_of(row),
            corpus=public_text(str(meta.get("corpus") or row.config.get("corpus", ""))),
            context_length=int(meta.get("context_length") or row.config.get("context_length", 0)),
            d_in=row.d_in,
            n_contexts=None if n_contexts is None else int(n_contexts),
            n_tokens=row.n_tokens,
            complete=row.status == m.ArtifactStatus.ready.value,
            config=JSON(public_json(row.config)),
            created_at=row.created_at,
        )


def _model_of(row: m.Dataset) -> str:
    return public_text(row.model or str(row.config.get("model", "")))


def _hook_of(row: m.Dataset) -> str:
    return row.hook or str(row.config.get("hook", ""))


# Fields read through the request's DataLoaders (the rest come from the row). They are declared in place with
# ``strawberry.field(resolver=...)`` so that the published field order stays the schema's.


async def _run_status(root: Run, info: Info) -> JobStatus:
    if root._status in _ARTIFACT_STATUS:
        return _ARTIFACT_STATUS[root._status]
    job = await loaders(info).train_jobs.load(str(root.id))
    return JobStatus.QUEUED if job is None else JobStatus(job.status)


async def _run_dataset(root: Run, info: Info) -> Dataset | None:
    row = await loaders(info).datasets.load(str(root.dataset_id))
    return None if row is None else Dataset.from_row(row)


async def _run_model(root: Run, info: Info) -> str:
    row = await loaders(info).datasets.load(str(root.dataset_id))
    return "" if row is None else _model_of(row)


async def _run_hook(root: Run, info: Info) -> str:
    row = await loaders(info).datasets.load(str(root.dataset_id))
    return "" if row is None else _hook_of(row)


async def _run_d_in(root: Run, info: Info) -> int | None:
    row = await loaders(info).datasets.load(str(root.dataset_id))
    return None if row is None else row.d_in


async def _run_metrics(root: Run, info: Info, every: int = 1) -> list[MetricPoint]:
    if every < 1:
        raise BadInput(f"every: must be at least 1 (got {every})", field="every")
    rows = await loaders(info).metrics.load(str(root.id))
    kept = [row for i, row in enumerate(rows) if i % every == 0 or i == len(rows) - 1]
    return [MetricPoint.from_values(str(root.id), row["step"], row) for row in kept]


async def _run_feature_count(root: Run, info: Info) -> int:
    return int((await loaders(info).feature_stats.load(str(root.id)))["count"])


async def _run_grades(root: Run, info: Info) -> list[str]:
    order = {"High": 0, "Medium": 1, "Low": 2}
    grades = (await loaders(info).feature_stats.load(str(root.id)))["grades"]
    return sorted(grades, key=lambda g: (order.get(g, 9), g))


async def _run_density_histogram(root: Run, info: Info, bins: int = 40) -> Histogram | None:
    if not 1 <= bins <= 200:
        raise BadInput(f"bins: must be between 1 and 200 (got {bins})", field="bins")
    stats = await loaders(info).feature_stats.load(str(root.id))
    return log_density_histogram(stats["log10"], bins)


@strawberry.type
class Run:
    id: strawberry.ID
    name: str
    status: JobStatus = strawberry.field(
        resolver=_run_status,
        description="QUEUED | RUNNING until trained, then SUCCEEDED; FAILED or CANCELLED otherwise.",
    )
    created_at: datetime
    dataset_id: strawberry.ID
    dataset: Dataset | None = strawberry.field(resolver=_run_dataset)
    model: str = strawberry.field(resolver=_run_model)
    hook: str = strawberry.field(resolver=_run_hook)
    architecture: str
    d_in: int | None = strawberry.field(resolver=_run_d_in)
    d_sae: int
    config: JSON = strawberry.field(description="The training config (TrainConfig, snake_case keys).")
    steps_done: int = strawberry.field(description="Training steps completed so far.")
    eval: EvalCard | None = strawberry.field(description="Null until evaluated.")
    metrics: list[MetricPoint] = strawberry.field(
        resolver=_run_metrics,
        description="Logged training steps, oldest first; `every` keeps every n-th (and the last).",
    )
    analysed: bool = strawberry.field(description="True once feature analysis results are loaded.")
    feature_count: int = strawberry.field(
        resolver=_run_feature_count,
        description="Number of features with analysis results (0 before analysis).",
    )
    grades: list[str] = strawberry.field(
        resolver=_run_grades,
        description="Distinct grades present among the run's features (for the explorer filter).",
    )
    summary: JSON | None = strawberry.field(
        description="Run-level analysis summary (summary.json: dead/dense/alive counts, top lists)."
    )
    density_histogram: Histogram | None = strawberry.field(
        resolver=_run_density_histogram,
        description="Histogram of log10(density) over features with density > 0; zeroFraction = dead fraction.",
    )
    _status: strawberry.Private[str]
    """The row's artifact status (pending / ready / failed); the job's status while pending."""

    @classmethod
    def from_row(cls, row: m.Run) -> Run:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name or row.id[:8],
            created_at=row.created_at,
            dataset_id=strawberry.ID(row.dataset_id),
            architecture=row.architecture or str(row.config.get("architecture", "")),
            d_sae=int(row.d_sae or row.config.get("d_sae", 0)),
            config=JSON(public_json(row.config)),
            steps_done=row.steps_done,
            eval=None if not row.eval else EvalCard.from_dict(row.eval),
            analysed=row.analysed_at is not None,
            summary=None if row.summary is None else JSON(public_json(row.summary)),
            _status=row.status,
        )


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
    @read_field("Every training run, newest first.")
    async def runs(self, info: Info) -> list[Run] | None:
        rows = await loaders(info).query(list_runs)
        return [Run.from_row(row) for row in rows]

    @read_field()
    async def run(self, info: Info, id: strawberry.ID) -> Run | None:
        row = await loaders(info).runs.load(str(id))
        return None if row is None else Run.from_row(row)

    @read_field("Every activation set, newest first.")
    async def datasets(self, info: Info) -> list[Dataset] | None:
        rows = await loaders(info).query(list_datasets)
        return [Dataset.from_row(row) for row in rows]

    @read_field()
    async def dataset(self, info: Info, id: strawberry.ID) -> Dataset | None:
        row = await loaders(info).datasets.load(str(id))
        return None if row is None else Dataset.from_row(row)


@strawberry.type
class RunSubscriptions:
    @strawberry.subscription(
        permission_classes=[ReadAccess],
        description="Each logged training step of a run as it happens (query Run.metrics for the steps before).",
    )
    async def training_metrics(self, info: Info, run_id: strawberry.ID) -> AsyncGenerator[MetricPoint, None]:
        await require_run(info, str(run_id))
        stream = await Listening(events.subscribe_metrics(str(run_id), ctx(info).state.shared)).started()
        last = -1  # steps only move forward on one subscription, even if a resumed run re-logs some
        try:
            async for event in stream:
                if isinstance(event, events.MetricsEvent) and event.step > last:
                    last = event.step
                    yield MetricPoint.from_values(event.run_id, event.step, event.values)
        finally:
            await stream.aclose()
