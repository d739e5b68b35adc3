"""Repository functions: every read and write the tasks, the CLI and the gateway make, one session each.

All functions take a ``Session`` first (open one with ``shared.db.session.session_scope()``) and leave the commit
to the caller. Job state changes are conditional UPDATEs (``claim_job`` only succeeds on a queued job or one
whose worker stopped heartbeating) so two deliveries of the same task can never both run it. A run's analysis
is replaced in bulk (``replace_run_analysis``): re-running it never duplicates rows; human labels survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from shared.db.models import (
    PG_SEARCH_DOCUMENT,
    Dataset,
    Feature,
    FeatureExample,
    FeatureLabel,
    FeatureLogit,
    FeatureNeighbour,
    Job,
    JobStatus,
    Metric,
    Pipeline,
    Run,
    TokenFeatureRow,
    utcnow,
)
from shared.features import (
    ExampleRecord,
    FeatureRecord,
    FeatureRef,
    Histogram,
    RunSummary,
    TokenFeature,
    TokenIndexRecord,
    TokenValue,
)

_BATCH = 2000


class NotFound(LookupError):
    """A row that should exist does not (the message names the table and id)."""


def _get(session: Session, model: type[Any], key: Any) -> Any:
    row = session.get(model, key, populate_existing=True)  # conditional UPDATEs bypass the identity map
    if row is None:
        raise NotFound(f"{model.__tablename__}: no row with id {key!r}")
    return row


# --------------------------------------------------------------------------------------------------------------
# Datasets, runs, pipelines
# --------------------------------------------------------------------------------------------------------------


def get_dataset(session: Session, dataset_id: str) -> Dataset:
    """The dataset row (raises NotFound)."""
    return _get(session, Dataset, dataset_id)


def get_or_create_dataset(
    session: Session, dataset_id: str, config: dict[str, Any], name: str = ""
) -> Dataset:
    """The dataset with this id, created (pending) with ``config`` when new."""
    row = session.get(Dataset, dataset_id)
    if row is None:
        row = Dataset(
            id=dataset_id,
            name=name,
            config=config,
            model=str(config.get("model", "")),
            hook=str(config.get("hook", "")),
            store_prefix=f"datasets/{dataset_id}",
        )
        session.add(row)
        session.flush()
    return row


def list_datasets(session: Session, limit: int = 100, offset: int = 0) -> list[Dataset]:
    """Datasets, newest first."""
    stmt = select(Dataset).order_by(Dataset.created_at.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def mark_dataset_ready(session: Session, dataset_id: str, meta: dict[str, Any]) -> Dataset:
    """Record a collected dataset: its meta.json, width and token count; status ready."""
    row = get_dataset(session, dataset_id)
    row.meta = meta
    row.d_in = meta.get("d_in")
    n_contexts, context_length = meta.get("n_contexts"), meta.get("context_length")
    row.n_tokens = n_contexts * context_length if n_contexts and context_length else None
    row.status = "ready"
    row.ready_at = utcnow()
    return row


def get_run(session: Session, run_id: str) -> Run:
    """The run row (raises NotFound)."""
    return _get(session, Run, run_id)


def get_or_create_run(
    session: Session, run_id: str, dataset_id: str, config: dict[str, Any], name: str = ""
) -> Run:
    """The run with this id, created (pending) with its train ``config`` when new."""
    row = session.get(Run, run_id)
    if row is None:
        row = Run(
            id=run_id,
            dataset_id=dataset_id,
            name=name,
            config=config,
            architecture=str(config.get("architecture", "")),
            d_sae=config.get("d_sae"),
            store_prefix=f"runs/{run_id}",
        )
        session.add(row)
        session.flush()
    return row


def list_runs(
    session: Session, dataset_id: str | None = None, limit: int = 100, offset: int = 0
) -> list[Run]:
    """Runs (of one dataset when given), newest first."""
    stmt = select(Run).order_by(Run.created_at.desc()).limit(limit).offset(offset)
    if dataset_id is not None:
        stmt = stmt.where(Run.dataset_id == dataset_id)
    return list(session.scalars(stmt))


def mark_run_trained(session: Session, run_id: str, steps_done: int) -> Run:
    """Record a finished training: steps done; status ready."""
    row = get_run(session, run_id)
    row.steps_done = steps_done
    row.status = "ready"
    row.trained_at = utcnow()
    return row


def set_run_eval(session: Session, run_id: str, result: dict[str, Any], config: dict[str, Any]) -> Run:
    """Store a run's eval card and the evaluate config that produced it."""
    row = get_run(session, run_id)
    row.eval = result
    row.evaluate_config = config
    row.evaluated_at = utcnow()
    return row


def create_pipeline(
    session: Session, stages: list[dict[str, Any]], dataset_id: str | None, run_id: str | None
) -> Pipeline:
    """A pipeline over ``stages`` (``[{"kind", "config"}]``, in order)."""
    kinds = [s["kind"] for s in stages]
    if not kinds or len(set(kinds)) != len(kinds):
        raise ValueError(f"pipeline stages: need distinct stages, got {kinds}")
    row = Pipeline(stages=stages, dataset_id=dataset_id, run_id=run_id)
    session.add(row)
    session.flush()
    return row


def get_pipeline(session: Session, pipeline_id: str) -> Pipeline:
    """The pipeline row (raises NotFound)."""
    return _get(session, Pipeline, pipeline_id)


def stage_config(pipeline: Pipeline, kind: str) -> dict[str, Any]:
    """The config of stage ``kind`` of ``pipeline``."""
    for stage in pipeline.stages:
        if stage["kind"] == kind:
            return dict(stage.get("config") or {})
    raise NotFound(
        f"pipeline {pipeline.id}: has no {kind!r} stage (stages: {[s['kind'] for s in pipeline.stages]})"
    )


def next_stage(pipeline: Pipeline, kind: str) -> str | None:
    """The stage after ``kind`` in ``pipeline``, or None when ``kind`` is the last."""
    kinds = [s["kind"] for s in pipeline.stages]
    i = kinds.index(kind)
    return kinds[i + 1] if i + 1 < len(kinds) else None


def pipeline_jobs(session: Session, pipeline_id: str) -> list[Job]:
    """The jobs of a pipeline in creation order."""
    stmt = select(Job).where(Job.pipeline_id == pipeline_id).order_by(Job.created_at, Job.id)
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------------------------------


def create_job(
    session: Session,
    kind: str,
    *,
    pipeline_id: str | None = None,
    parent_id: str | None = None,
    dataset_id: str | None = None,
    run_id: str | None = None,
    message: str = "queued",
) -> Job:
    """A queued job."""
    row = Job(
        kind=kind,
        pipeline_id=pipeline_id,
        parent_id=parent_id,
        dataset_id=dataset_id,
        run_id=run_id,
        message=message,
    )
    session.add(row)
    session.flush()
    return row


def get_job(session: Session, job_id: str) -> Job:
    """The job row (raises NotFound)."""
    return _get(session, Job, job_id)


def list_jobs(
    session: Session,
    status: str | Sequence[str] | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Job]:
    """Jobs filtered by status (one or several) and kind, newest first."""
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    if status is not None:
        stmt = stmt.where(Job.status.in_([status] if isinstance(status, str) else list(status)))
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    return list(session.scalars(stmt))


def claim_job(session: Session, job_id: str, worker: str, stale_before: datetime) -> Job | None:
    """Atomically take a job to run: only a queued job, or a running one whose heartbeat is older than
    ``stale_before`` (its worker vanished). Returns the claimed job, or None when someone else holds it."""
    now = utcnow()
    claimable = or_(
        Job.status == JobStatus.queued.value,
        and_(
            Job.status == JobStatus.running.value,
            or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale_before),
        ),
    )
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, claimable, Job.cancel_requested.is_(False))
        .values(
            status=JobStatus.running.value,
            worker=worker,
            attempts=Job.attempts + 1,
            heartbeat_at=now,
            started_at=func.coalesce(Job.started_at, now),
            error=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id)
    if job is not None:
        session.refresh(job)
    return job


def heartbeat_job(session: Session, job_id: str, worker: str) -> bool:
    """Refresh a running job's heartbeat; False when the job is no longer this worker's (reaped, cancelled)."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.running.value)
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class JobControl:
    """What a running task learns when it reports progress."""

    owned: bool
    """The job is still running on this worker."""
    cancel_requested: bool
    """Someone asked to cancel it."""


def update_job_progress(
    session: Session, job_id: str, worker: str, progress: float, message: str, stage: str | None = None
) -> JobControl:
    """Record progress (clipped to 0..1) of a running job owned by ``worker``; also refreshes its heartbeat."""
    now = utcnow()
    values: dict[str, Any] = {
        "progress": min(max(progress, 0.0), 1.0),
        "message": message,
        "heartbeat_at": now,
        "updated_at": now,
    }
    if stage is not None:
        values["stage"] = stage
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.running.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    cancel = session.scalar(select(Job.cancel_requested).where(Job.id == job_id))
    return JobControl(owned=result.rowcount == 1, cancel_requested=bool(cancel))  # type: ignore[attr-defined]


def finish_job(
    session: Session,
    job_id: str,
    worker: str | None,
    status: JobStatus,
    message: str,
    error: str | None = None,
) -> bool:
    """Move a running job (of ``worker``, or any worker when None) to a final or queued state."""
    now = utcnow()
    values: dict[str, Any] = {"status": status.value, "message": message, "error": error, "updated_at": now}
    if status.terminal:
        values["finished_at"] = now
    if status == JobStatus.succeeded:
        values["progress"] = 1.0
    stmt = update(Job).where(Job.id == job_id, Job.status == JobStatus.running.value)
    if worker is not None:
        stmt = stmt.where(Job.worker == worker)
    result = session.execute(stmt.values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def fail_queued_job(session: Session, job_id: str, error: str) -> bool:
    """Fail a job that never started (its task could not be enqueued, or it was delivered too often)."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.queued.value)
        .values(status=JobStatus.failed.value, error=error, message=error, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def request_cancel(session: Session, job_id: str) -> Job:
    """Cancel a job: a queued one at once, a running one at its next progress report; final jobs unchanged."""
    job = get_job(session, job_id)
    now = utcnow()
    if job.status == JobStatus.queued.value:
        job.status = JobStatus.cancelled.value
        job.message = "cancelled before it started"
        job.finished_at = now
        job.cancel_requested = True
    elif job.status == JobStatus.running.value:
        job.cancel_requested = True
        job.message = "cancellation requested"
    session.flush()
    return job


def stale_jobs(session: Session, stale_before: datetime) -> list[Job]:
    """Running jobs whose last heartbeat is older than ``stale_before`` (their worker vanished)."""
    stmt = select(Job).where(
        Job.status == JobStatus.running.value,
        or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale_before),
    )
    return list(session.scalars(stmt))


def reap_job(session: Session, job_id: str, stale_before: datetime, status: JobStatus, message: str) -> bool:
    """Requeue or fail a stale job, only if it is still stale (another reaper or a late heartbeat may win)."""
    now = utcnow()
    values: dict[str, Any] = {"status": status.value, "message": message, "updated_at": now, "worker": None}
    if status.terminal:
        values |= {"finished_at": now, "error": message}
    result = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.status == JobStatus.running.value,
            or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale_before),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------------------


def _upsert(session: Session, model: type[Any]) -> Any:
    """An INSERT supporting ``on_conflict_do_update`` in the session's dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def upsert_metrics(session: Session, run_id: str, step: int, values: dict[str, Any]) -> int:
    """Store one logged step's metrics; (run, step, name) is unique, so re-logging a step overwrites it.

    Non-numeric and non-finite values are left out; returns the number of values stored.
    """
    rows = [
        {"run_id": run_id, "step": int(step), "name": name, "value": float(v)}
        for name, v in values.items()
        if name != "step"
        and isinstance(v, int | float)
        and not isinstance(v, bool)
        and v == v
        and abs(v) != float("inf")
    ]
    if not rows:
        return 0
    stmt = _upsert(session, Metric)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "step", "name"], set_={"value": stmt.excluded.value}
    )
    session.execute(stmt, rows)
    return len(rows)


def get_metrics(
    session: Session, run_id: str, names: Sequence[str] | None = None
) -> dict[str, list[tuple[int, float]]]:
    """A run's training curves: metric name -> [(step, value)] in step order."""
    stmt = (
        select(Metric.name, Metric.step, Metric.value)
        .where(Metric.run_id == run_id)
        .order_by(Metric.name, Metric.step)
    )
    if names is not None:
        stmt = stmt.where(Metric.name.in_(list(names)))
    out: dict[str, list[tuple[int, float]]] = {}
    for name, step, value in session.execute(stmt):
        out.setdefault(name, []).append((step, value))
    return out


def count_metric_rows(session: Session, run_id: str) -> int:
    """Number of metric rows of a run."""
    return int(session.scalar(select(func.count()).select_from(Metric).where(Metric.run_id == run_id)) or 0)


# --------------------------------------------------------------------------------------------------------------
# Analysis results: bulk, idempotent replacement
# --------------------------------------------------------------------------------------------------------------

_SNIPPETS_PER_FEATURE = 3


def _batched(rows: Iterable[dict[str, Any]], size: int = _BATCH) -> Iterable[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_all(session: Session, model: type[Any], rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    for batch in _batched(rows):
        session.execute(insert(model), batch)
        n += len(batch)
    return n


def _example_row(run_id: str, ex: ExampleRecord) -> dict[str, Any]:
    low, high = ex.bin_range if ex.bin_range is not None else (None, None)
    return {
        "run_id": run_id,
        "feature_index": ex.feature,
        "kind": ex.kind,
        "bin": ex.bin,
        "bin_low": low,
        "bin_high": high,
        "rank": ex.rank,
        "context": ex.context,
        "position": ex.position,
        "tokens": ex.tokens,
        "token_ids": ex.token_ids,
        "activations": ex.activations,
        "max_position": ex.max_position,
        "max_activation": ex.max_activation,
    }


def _search_text(rec: FeatureRecord, snippets: list[str]) -> str:
    parts = [rec.label_description or ""]
    parts += [t.token.strip() for t in rec.top_tokens]
    parts += [t.token.strip() for t in rec.top_logits]
    parts += snippets
    return " ".join(p for p in parts if p)


def _feature_row(run_id: str, rec: FeatureRecord, snippets: list[str]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "feature_index": rec.index,
        "n_active": rec.n_active,
        "density": rec.density,
        "log10_density": rec.log10_density,
        "mean_activation": rec.mean_activation,
        "max_activation": rec.max_activation,
        "dead": rec.dead,
        "dense": rec.dense,
        "histogram": rec.histogram.model_dump(mode="json"),
        "top_tokens": [t.model_dump(mode="json") for t in rec.top_tokens],
        "label": rec.label,
        "label_source": rec.label_source,
        "label_description": rec.label_description,
        "label_score": rec.label_score,
        "grade": rec.grade,
        "search_text": _search_text(rec, snippets),
    }


def _child_rows(run_id: str, rec: FeatureRecord) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    neighbours = [
        {
            "run_id": run_id,
            "feature_index": rec.index,
            "kind": kind,
            "rank": i,
            "neighbour_index": n.index,
            "score": n.score,
        }
        for kind, refs in (("decoder", rec.decoder_neighbours), ("coactivation", rec.coactivation_neighbours))
        for i, n in enumerate(refs)
    ]
    logits = [
        {
            "run_id": run_id,
            "feature_index": rec.index,
            "direction": direction,
            "rank": i,
            "token": t.token,
            "token_id": t.token_id,
            "value": t.value,
        }
        for direction, values in (("top", rec.top_logits), ("bottom", rec.bottom_logits))
        for i, t in enumerate(values)
    ]
    return neighbours, logits


def delete_run_analysis(session: Session, run_id: str) -> None:
    """Remove a run's analysis rows (human labels are kept in the label history)."""
    for model in (FeatureExample, FeatureNeighbour, FeatureLogit, TokenFeatureRow, Feature):
        session.execute(delete(model).where(model.run_id == run_id))
    session.execute(delete(FeatureLabel).where(FeatureLabel.run_id == run_id, FeatureLabel.source != "human"))


@dataclass(frozen=True)
class AnalysisCounts:
    """Rows written by one ``replace_run_analysis``."""

    features: int
    examples: int
    neighbours: int
    logits: int
    tokens: int


def replace_run_analysis(
    session: Session,
    run_id: str,
    *,
    features: Iterable[FeatureRecord],
    examples: Iterable[ExampleRecord],
    token_index: Iterable[TokenIndexRecord],
    summary: RunSummary | None = None,
) -> AnalysisCounts:
    """Replace every analysis row of ``run_id`` with these records, in bulk (streams the iterables once).

    Examples are consumed first (their text feeds full-text search), then features, then the token index.
    Human relabels made earlier are re-applied on top of the new auto labels.
    """
    get_run(session, run_id)
    delete_run_analysis(session, run_id)
    snippets: dict[int, list[str]] = {}

    def example_rows() -> Iterable[dict[str, Any]]:
        for ex in examples:
            if ex.kind == "top" and len(snippets.setdefault(ex.feature, [])) < _SNIPPETS_PER_FEATURE:
                snippets[ex.feature].append("".join(ex.tokens))
            yield _example_row(run_id, ex)

    n_examples = _insert_all(session, FeatureExample, example_rows())
    n_features = n_neighbours = n_logits = 0
    for batch in _batched_records(features):
        session.execute(insert(Feature), [_feature_row(run_id, r, snippets.get(r.index, [])) for r in batch])
        children = [_child_rows(run_id, r) for r in batch]
        neighbours = [row for n, _ in children for row in n]
        logits = [row for _, lg in children for row in lg]
        labels = [
            {
                "run_id": run_id,
                "feature_index": r.index,
                "source": r.label_source,
                "label": r.label,
                "description": r.label_description,
                "score": r.label_score,
                "grade": r.grade,
            }
            for r in batch
            if r.label is not None and r.label_source != "human"
        ]
        for model, rows in ((FeatureNeighbour, neighbours), (FeatureLogit, logits), (FeatureLabel, labels)):
            if rows:
                session.execute(insert(model), rows)
        n_features += len(batch)
        n_neighbours += len(neighbours)
        n_logits += len(logits)
    n_tokens = _insert_all(
        session,
        TokenFeatureRow,
        (
            {
                "run_id": run_id,
                "token_id": rec.token_id,
                "token": rec.token,
                "count": rec.count,
                "rank": i,
                "feature_index": tf.index,
                "mean_activation": tf.mean_activation,
                "fire_fraction": tf.fire_fraction,
            }
            for rec in token_index
            for i, tf in enumerate(rec.features)
        ),
    )
    _reapply_human_labels(session, run_id)
    run = get_run(session, run_id)
    if summary is not None:
        run.summary = summary.model_dump(mode="json")
    run.analysed_at = utcnow()
    return AnalysisCounts(n_features, n_examples, n_neighbours, n_logits, n_tokens)


def _batched_records(records: Iterable[FeatureRecord], size: int = _BATCH) -> Iterable[list[FeatureRecord]]:
    batch: list[FeatureRecord] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _reapply_human_labels(session: Session, run_id: str) -> None:
    latest = (
        select(FeatureLabel.feature_index, func.max(FeatureLabel.id).label("id"))
        .where(FeatureLabel.run_id == run_id, FeatureLabel.source == "human")
        .group_by(FeatureLabel.feature_index)
        .subquery()
    )
    for label in session.scalars(select(FeatureLabel).join(latest, FeatureLabel.id == latest.c.id)):
        session.execute(
            update(Feature)
            .where(Feature.run_id == run_id, Feature.feature_index == label.feature_index)
            .values(label=label.label, label_source="human", label_description=label.description)
        )


def relabel_feature(
    session: Session, run_id: str, index: int, label: str, description: str | None = None
) -> Feature:
    """Set a human label on a feature (kept in the label history; survives re-analysis)."""
    label = label.strip()
    if not label:
        raise ValueError("label: must not be empty")
    feature = get_feature(session, run_id, index)
    if feature is None:
        raise NotFound(f"features: run {run_id} has no analysed feature {index}")
    session.add(
        FeatureLabel(run_id=run_id, feature_index=index, source="human", label=label, description=description)
    )
    feature.label = label
    feature.label_source = "human"
    feature.label_description = description
    session.flush()
    return feature


# --------------------------------------------------------------------------------------------------------------
# Analysis results: reads for the explorer
# --------------------------------------------------------------------------------------------------------------

FeatureSort = Literal["index", "density", "max_activation", "label_score"]
_SORT_COLUMNS = {
    "index": Feature.feature_index,
    "density": Feature.density,
    "max_activation": Feature.max_activation,
    "label_score": Feature.label_score,
}


@dataclass(frozen=True)
class FeatureFilter:
    """Explorer filters; None leaves a criterion out."""

    density_min: float | None = None
    density_max: float | None = None
    grade: str | None = None
    label_contains: str | None = None
    include_dead: bool = True


def _filtered(stmt: Select[Any], run_id: str, flt: FeatureFilter) -> Select[Any]:
    stmt = stmt.where(Feature.run_id == run_id)
    if flt.density_min is not None:
        stmt = stmt.where(Feature.density >= flt.density_min)
    if flt.density_max is not None:
        stmt = stmt.where(Feature.density <= flt.density_max)
    if flt.grade is not None:
        stmt = stmt.where(Feature.grade == flt.grade)
    if flt.label_contains:
        stmt = stmt.where(func.lower(Feature.label).contains(flt.label_contains.lower(), autoescape=True))
    if not flt.include_dead:
        stmt = stmt.where(Feature.dead.is_(False))
    return stmt


def list_features(
    session: Session,
    run_id: str,
    sort: FeatureSort = "index",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
    flt: FeatureFilter | None = None,
) -> tuple[list[Feature], int]:
    """One page of a run's features in the explorer's order, and the total matching the filter."""
    if sort not in _SORT_COLUMNS:
        raise ValueError(f"sort: must be one of {sorted(_SORT_COLUMNS)}, got {sort!r}")
    flt = flt or FeatureFilter()
    column = _SORT_COLUMNS[sort]
    # The page's indices come from the (run_id, col, feature_index) index alone; only those rows are then read.
    key_columns: list[Any] = [Feature.feature_index, column.label("sort_key")]
    ids = _filtered(select(*key_columns), run_id, flt)
    page = ids.order_by(*page_order(column, descending, Feature.feature_index)).limit(limit).offset(offset)
    keys = page.subquery("page")
    rows = (
        select(Feature)
        .join(keys, and_(Feature.run_id == run_id, Feature.feature_index == keys.c.feature_index))
        .order_by(*page_order(keys.c.sort_key, descending, keys.c.feature_index))
    )
    total = session.scalar(_filtered(select(func.count()).select_from(Feature), run_id, flt)) or 0
    return list(session.scalars(rows)), int(total)


def page_order(column: Any, descending: bool, index: Any) -> list[Any]:
    """ORDER BY of a page, ties by index; NULLS LAST only where nulls exist, so SQLite can walk the index."""
    key = column.desc() if descending else column.asc()
    return [key.nulls_last() if column.nullable else key, index.asc()]


def get_feature(session: Session, run_id: str, index: int) -> Feature | None:
    """One feature row, or None."""
    return session.scalar(select(Feature).where(Feature.run_id == run_id, Feature.feature_index == index))


def get_features(session: Session, run_id: str, indices: Sequence[int]) -> dict[int, Feature]:
    """Feature rows by index (one query; missing indices absent)."""
    stmt = select(Feature).where(Feature.run_id == run_id, Feature.feature_index.in_(list(indices)))
    return {f.feature_index: f for f in session.scalars(stmt)}


def get_examples(
    session: Session, run_id: str, indices: Sequence[int], kind: str | None = None
) -> dict[int, list[ExampleRecord]]:
    """Examples of several features (one query): index -> records, top examples by rank then quantiles by bin."""
    stmt = select(FeatureExample).where(
        FeatureExample.run_id == run_id, FeatureExample.feature_index.in_(list(indices))
    )
    if kind is not None:
        stmt = stmt.where(FeatureExample.kind == kind)
    stmt = stmt.order_by(
        FeatureExample.feature_index, FeatureExample.kind.desc(), FeatureExample.bin, FeatureExample.rank
    )
    out: dict[int, list[ExampleRecord]] = {i: [] for i in indices}
    for row in session.scalars(stmt):
        out.setdefault(row.feature_index, []).append(
            ExampleRecord(
                feature=row.feature_index,
                kind=row.kind,  # type: ignore[arg-type]
                bin=row.bin,
                bin_range=None
                if row.bin_low is None or row.bin_high is None
                else (row.bin_low, row.bin_high),
                rank=row.rank,
                context=row.context,
                position=row.position,
                tokens=row.tokens,
                token_ids=row.token_ids,
                activations=row.activations,
                max_position=row.max_position,
                max_activation=row.max_activation,
            )
        )
    return out


def get_neighbours(
    session: Session, run_id: str, indices: Sequence[int], kind: str
) -> dict[int, list[FeatureRef]]:
    """Neighbours (``decoder`` or ``coactivation``) of several features: index -> refs by rank."""
    stmt = (
        select(FeatureNeighbour)
        .where(
            FeatureNeighbour.run_id == run_id,
            FeatureNeighbour.feature_index.in_(list(indices)),
            FeatureNeighbour.kind == kind,
        )
        .order_by(FeatureNeighbour.feature_index, FeatureNeighbour.rank)
    )
    out: dict[int, list[FeatureRef]] = {i: [] for i in indices}
    for row in session.scalars(stmt):
        out.setdefault(row.feature_index, []).append(FeatureRef(index=row.neighbour_index, score=row.score))
    return out


def get_logit_tokens(
    session: Session, run_id: str, indices: Sequence[int], direction: str
) -> dict[int, list[TokenValue]]:
    """Logit-lens tokens (``top`` or ``bottom``) of several features: index -> tokens by rank."""
    stmt = (
        select(FeatureLogit)
        .where(
            FeatureLogit.run_id == run_id,
            FeatureLogit.feature_index.in_(list(indices)),
            FeatureLogit.direction == direction,
        )
        .order_by(FeatureLogit.feature_index, FeatureLogit.rank)
    )
    out: dict[int, list[TokenValue]] = {i: [] for i in indices}
    for row in session.scalars(stmt):
        out.setdefault(row.feature_index, []).append(
            TokenValue(token=row.token, token_id=row.token_id, value=row.value)
        )
    return out


def feature_record(session: Session, run_id: str, index: int) -> FeatureRecord | None:
    """The full ``FeatureRecord`` of one feature, rebuilt from its rows (None when not analysed)."""
    row = get_feature(session, run_id, index)
    if row is None:
        return None
    return FeatureRecord(
        index=row.feature_index,
        n_active=row.n_active,
        density=row.density,
        log10_density=row.log10_density,
        mean_activation=row.mean_activation,
        max_activation=row.max_activation,
        dead=row.dead,
        dense=row.dense,
        histogram=Histogram.model_validate(row.histogram),
        top_tokens=[TokenValue.model_validate(t) for t in row.top_tokens],
        top_logits=get_logit_tokens(session, run_id, [index], "top")[index],
        bottom_logits=get_logit_tokens(session, run_id, [index], "bottom")[index],
        decoder_neighbours=get_neighbours(session, run_id, [index], "decoder")[index],
        coactivation_neighbours=get_neighbours(session, run_id, [index], "coactivation")[index],
        label=row.label,
        label_source=row.label_source,  # type: ignore[arg-type]
        label_description=row.label_description,
        label_score=row.label_score,
        grade=row.grade,  # type: ignore[arg-type]
    )


def token_features(session: Session, run_id: str, token: str, limit: int = 20) -> TokenIndexRecord | None:
    """The token index entry of ``token`` (exact text, e.g. ``" mouse"``; falls back to the stripped form)."""
    for candidate in dict.fromkeys([token, f" {token.strip()}", token.strip()]):
        stmt = (
            select(TokenFeatureRow)
            .where(TokenFeatureRow.run_id == run_id, TokenFeatureRow.token == candidate)
            .order_by(TokenFeatureRow.rank)
            .limit(limit)
        )
        rows = list(session.scalars(stmt))
        if rows:
            return TokenIndexRecord(
                token_id=rows[0].token_id,
                token=rows[0].token,
                count=rows[0].count,
                features=[
                    TokenFeature(
                        index=r.feature_index,
                        mean_activation=r.mean_activation,
                        fire_fraction=r.fire_fraction,
                    )
                    for r in rows
                ],
            )
    return None


# --------------------------------------------------------------------------------------------------------------
# Full-text search
# --------------------------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def search_features(session: Session, run_id: str, query: str, limit: int = 20) -> list[tuple[int, float]]:
    """Features of a run matching every word of ``query`` (as a prefix) in label, tokens or example text, best first.

    Returns ``[(feature_index, score)]``; label matches rank above text matches. PostgreSQL: weighted tsvector
    with ``ts_rank`` over a GIN index; SQLite: FTS5 with ``bm25`` (label weighted 10x).
    """
    words = _WORD.findall(query.lower())
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sql = text(
            f"SELECT feature_index, ts_rank({PG_SEARCH_DOCUMENT}, q) AS score "
            f"FROM features, to_tsquery('simple', :query) q "
            f"WHERE run_id = :run_id AND ({PG_SEARCH_DOCUMENT}) @@ q "
            "ORDER BY score DESC, feature_index LIMIT :limit"
        )
        params: dict[str, Any] = {
            "query": " & ".join(f"{w}:*" for w in words),
            "run_id": run_id,
            "limit": limit,
        }
    else:
        sql = text(
            "SELECT f.feature_index, -bm25(feature_fts, 10.0, 1.0) AS score "
            "FROM feature_fts JOIN features f ON f.id = feature_fts.rowid "
            "WHERE feature_fts MATCH :query AND f.run_id = :run_id "
            "ORDER BY score DESC, f.feature_index LIMIT :limit"
        )
        params = {"query": " ".join(f'"{w}"*' for w in words), "run_id": run_id, "limit": limit}
    return [(int(i), float(s)) for i, s in session.execute(sql, params)]
