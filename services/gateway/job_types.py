"""The ``jobs`` domain's types (a job, a pipeline shown as a PIPELINE job, a sweep's runs), their reads, and the
submit step every submission mutation ends with (``jobs``, ``imports``, ``sweeps``).

A pipeline (collect -> train -> evaluate -> analyse) is shown as a job of kind PIPELINE whose children are its
stage jobs; its status and progress are derived from theirs.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.exc import IntegrityError, OperationalError
from strawberry.types import Info

from services.gateway.common import JSON, ctx, loaders
from services.gateway.errors import BadInput, Conflict, NotFound, Unavailable
from shared.config import ConfigError
from shared.db import models as m
from shared.jobs import pipelines
from shared.paths import public_json, public_text

log = logging.getLogger(__name__)


@strawberry.enum
class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """No further change: the job system's own rule (``shared.db.models.JobStatus.terminal``)."""
        return m.JobStatus(self.value).terminal


@strawberry.enum
class JobKind(enum.Enum):
    PIPELINE = "pipeline"
    COLLECT = "collect"
    TRAIN = "train"
    EVALUATE = "evaluate"
    ANALYSE = "analyse"
    IMPORT = "import"
    SWEEP = "sweep"
    EXPLAIN = "explain"


@strawberry.type
class Job:
    id: strawberry.ID
    kind: JobKind
    status: JobStatus
    progress: float = strawberry.field(description="0..1 (for a pipeline: the mean over its stages).")
    stage: str = strawberry.field(description="What the job is doing now, e.g. 'collecting', 'training'.")
    message: str
    error: str | None = strawberry.field(description="Readable failure message (no stack trace) when FAILED.")
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    parent_id: strawberry.ID | None = strawberry.field(
        description="The pipeline this stage belongs to, if any."
    )
    dataset_id: strawberry.ID | None
    run_id: strawberry.ID | None = strawberry.field(description="The run it trains / evaluates / analyses.")
    _stages: strawberry.Private[list[m.Job] | None] = None

    @strawberry.field(description="The run's name (or the dataset's for a collection job).")
    async def name(self, info: Info) -> str | None:
        lo = loaders(info)
        if self.run_id is not None:
            run = await lo.runs.load(str(self.run_id))
            if run is not None and run.name:
                return run.name
        if self.dataset_id is not None:
            dataset = await lo.datasets.load(str(self.dataset_id))
            if dataset is not None and dataset.name:
                return dataset.name
        return None

    @strawberry.field(description="Stages of a pipeline job, in order (empty for a single job).")
    def children(self) -> list[Job]:
        return [job_from_row(row) for row in self._stages or []]

    @strawberry.field(
        description="The runs a sweep trains (a SWEEP job, or a pipeline with a sweep stage), in member order; "
        "empty otherwise. Each run is evaluated and analysed by its own child pipeline."
    )
    async def sweep_runs(self, info: Info) -> list[SweepRun]:
        config = await _sweep_stage(info, self)
        if config is None or self.dataset_id is None:
            return []
        ids = pipelines.sweep_runs(str(self.dataset_id), config)
        lo = loaders(info)
        out = []
        for member, run_id in ids.items():
            row = await lo.runs.load(run_id)
            if row is not None:
                out.append(SweepRun.from_row(member, row))
        return out

    @strawberry.field(
        description="The config of this job (snake_case keys; a pipeline: collect/train/analyse)."
    )
    async def config(self, info: Info) -> JSON | None:
        config = await _job_config(info, self)
        return None if config is None else JSON(public_json(config))


@strawberry.type(description="One member of a sweep and the run it trains (query run(id) for the rest).")
class SweepRun:
    member: str
    run_id: strawberry.ID
    name: str
    architecture: str
    d_sae: int
    steps_done: int = strawberry.field(
        description="Training steps recorded when the run finished (0 before)."
    )
    trained: bool
    evaluated: bool
    analysed: bool

    @classmethod
    def from_row(cls, member: str, row: m.Run) -> SweepRun:
        return cls(
            member=member,
            run_id=strawberry.ID(row.id),
            name=row.name or row.id[:8],
            architecture=row.architecture or str(row.config.get("architecture", "")),
            d_sae=int(row.d_sae or row.config.get("d_sae", 0)),
            steps_done=row.steps_done,
            trained=row.status == m.ArtifactStatus.ready.value,
            evaluated=row.eval is not None,
            analysed=row.analysed_at is not None,
        )


async def _sweep_stage(info: Info, job: Job) -> dict[str, Any] | None:
    """The sweep stage config of a SWEEP job or of a pipeline holding one."""
    lo = loaders(info)
    if job.kind == JobKind.PIPELINE:
        pipeline = await lo.pipelines.load(str(job.id))
    elif job.kind == JobKind.SWEEP:
        row = await lo.jobs.load(str(job.id))
        pipeline = await lo.pipelines.load(row.pipeline_id) if row and row.pipeline_id else None
    else:
        return None
    for stage in pipeline.stages if pipeline else []:
        if stage["kind"] == "sweep":
            return dict(stage.get("config") or {})
    return None


def optional_id(value: str | None) -> strawberry.ID | None:
    """A GraphQL ID, or None."""
    return None if value is None else strawberry.ID(value)


def job_from_row(row: m.Job) -> Job:
    """A GraphQL job from a ``jobs`` row."""
    return Job(
        id=strawberry.ID(row.id),
        kind=JobKind(row.kind),
        status=JobStatus(row.status),
        progress=float(row.progress or 0.0),
        stage=row.stage or "",
        message=public_text(row.message or ""),
        error=None if row.error is None else public_text(row.error),
        attempts=row.attempts,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        parent_id=optional_id(row.pipeline_id or row.parent_id),
        dataset_id=optional_id(row.dataset_id),
        run_id=optional_id(row.run_id),
    )


def job_from_pipeline(row: m.Pipeline, stages: list[m.Job]) -> Job:
    """A PIPELINE job: status from its stages (a failure or cancel wins; done when every stage succeeded)."""
    n_stages = max(len(row.stages or []), len(stages), 1)
    statuses = [JobStatus(job.status) for job in stages]
    current = stages[-1] if stages else None
    done = sum(
        1.0 if s == JobStatus.SUCCEEDED else float(j.progress or 0)
        for s, j in zip(statuses, stages, strict=False)
    )
    return Job(
        id=strawberry.ID(row.id),
        kind=JobKind.PIPELINE,
        status=_pipeline_status(statuses, n_stages),
        progress=done / n_stages,
        stage=current.kind if current else "",
        message=public_text(current.message or "") if current else "",
        error=next((public_text(job.error) for job in stages if job.error), None),
        attempts=0,
        created_at=row.created_at,
        started_at=min((j.started_at for j in stages if j.started_at), default=None),
        finished_at=current.finished_at if current and len(stages) == n_stages else None,
        parent_id=None,
        dataset_id=optional_id(row.dataset_id),
        run_id=optional_id(row.run_id),
        _stages=stages,
    )


def _pipeline_status(statuses: list[JobStatus], n_stages: int) -> JobStatus:
    for bad in (JobStatus.FAILED, JobStatus.CANCELLED):
        if bad in statuses:
            return bad
    if len(statuses) == n_stages and all(s == JobStatus.SUCCEEDED for s in statuses):
        return JobStatus.SUCCEEDED
    if any(s == JobStatus.RUNNING for s in statuses) or JobStatus.SUCCEEDED in statuses:
        return JobStatus.RUNNING
    return JobStatus.QUEUED


async def _job_config(info: Info, job: Job) -> dict[str, Any] | None:
    lo = loaders(info)
    run = await lo.runs.load(str(job.run_id)) if job.run_id else None
    dataset = await lo.datasets.load(str(job.dataset_id)) if job.dataset_id else None
    sweep = await _sweep_stage(info, job)
    if job.kind == JobKind.SWEEP:
        return sweep
    if job.kind == JobKind.PIPELINE:
        return {
            "collect": dataset.config if dataset else None,
            "train": run.config if run else None,
            "analyse": run.analyse_config if run else None,
        } | ({"sweep": sweep} if sweep is not None else {})
    by_kind = {
        JobKind.COLLECT: dataset.config if dataset else None,
        JobKind.TRAIN: run.config if run else None,
        JobKind.EVALUATE: run.evaluate_config if run else None,
        JobKind.ANALYSE: run.analyse_config if run else None,
        JobKind.IMPORT: run.config if run else None,
    }
    return by_kind.get(job.kind)


async def load_job(info: Info, job_id: str) -> Job | None:
    """A job or a pipeline (as a PIPELINE job) by id, or None."""
    lo = loaders(info)
    row = await lo.jobs.load(job_id)
    if row is not None:
        return job_from_row(row)
    pipeline = await lo.pipelines.load(job_id)
    if pipeline is None:
        return None
    return job_from_pipeline(pipeline, await lo.pipeline_jobs.load(job_id))


async def require_job(info: Info, job_id: str) -> Job:
    job = await load_job(info, job_id)
    if job is None:
        raise NotFound(f"job {job_id!r} not found", jobId=job_id)
    return job


async def submitted(info: Info, call: Any, *args: Any, **kwargs: Any) -> Job:
    """Run a ``shared.pipelines`` submission in a thread; return its pipeline as a PIPELINE job."""
    kwargs["settings"] = ctx(info).state.shared
    try:
        submission = await asyncio.to_thread(call, *args, **kwargs)
    except ConfigError as err:
        raise BadInput(str(err)) from None
    except (IntegrityError, OperationalError) as err:  # lost a race with an identical submission
        log.warning("submission conflicted with a concurrent one: %s", type(err).__name__)
        raise Conflict(
            "A concurrent submission of the same pipeline was being recorded; send it again"
        ) from None
    except RuntimeError as err:  # the transport refused: no in-process worker, broker down
        log.warning("submission could not be enqueued: %s", err)
        raise Unavailable(
            "The job was recorded but could not be queued: no worker or broker is reachable"
        ) from err
    return await require_job(info, submission.pipeline_id)


async def collected_dataset(info: Info, dataset_id: str) -> m.Dataset:
    """The dataset row of a submission that trains on it: NOT_FOUND when unknown, BAD_INPUT when not collected yet."""
    dataset = await loaders(info).datasets.load(dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id!r} not found", datasetId=dataset_id)
    if dataset.status != m.ArtifactStatus.ready.value:
        raise BadInput(f"datasetId: dataset {dataset_id!r} is not collected yet", field="datasetId")
    return dataset
