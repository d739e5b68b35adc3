"""GraphQL domain ``jobs``: job and pipeline status, submission and cancellation, live ``jobUpdates``.

Submissions are validated by ``services.gateway.submission`` and go through ``shared.jobs.pipelines`` (enqueue by
name; the embedded worker or Celery runs them).

A pipeline (collect -> train -> evaluate -> analyse) is shown as a job of kind PIPELINE whose children are its
stage jobs; its status and progress are derived from theirs.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncGenerator
from dataclasses import replace
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.exc import IntegrityError, OperationalError
from strawberry.types import Info

from services.gateway.auth import ReadAccess, TokenRequired
from services.gateway.common import JSON, Listening, ctx, loaders, require_run
from services.gateway.errors import BadInput, Conflict, NotFound, Unavailable
from services.gateway.limits import check_page_size
from services.gateway.submission import (
    evaluate_choice,
    fenced_collect,
    fenced_corpus,
    import_source,
    submission_name,
    validated,
)
from shared.config import (
    AnalyseConfig,
    CollectConfig,
    ConfigError,
    EvaluateConfig,
    ImportConfig,
    SweepConfig,
    TrainConfig,
)
from shared.db import models as m
from shared.db.repositories.jobs import list_jobs
from shared.db.repositories.pipelines import list_pipelines
from shared.jobs import events, pipelines
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
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


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


def _id(value: str | None) -> strawberry.ID | None:
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
        parent_id=_id(row.pipeline_id or row.parent_id),
        dataset_id=_id(row.dataset_id),
        run_id=_id(row.run_id),
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
        dataset_id=_id(row.dataset_id),
        run_id=_id(row.run_id),
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


# --------------------------------------------------------------------------------------------------------------
# Root fields
# --------------------------------------------------------------------------------------------------------------


@strawberry.type
class JobQueries:
    @strawberry.field(
        permission_classes=[ReadAccess], description="Jobs newest first (pipelines as PIPELINE jobs)."
    )
    async def jobs(
        self, info: Info, status: JobStatus | None = None, kind: JobKind | None = None, first: int = 50
    ) -> list[Job]:
        check_page_size(first, info.context.state.settings.max_page_size)
        lo = loaders(info)
        if kind == JobKind.PIPELINE:
            pipelines = await lo.query(list_pipelines, first)
            jobs = [job_from_pipeline(p, await lo.pipeline_jobs.load(p.id)) for p in pipelines]
            return [j for j in jobs if status is None or j.status == status]
        rows = await lo.query(
            list_jobs, status.value if status else None, kind.value if kind else None, first
        )
        return [job_from_row(row) for row in rows]

    @strawberry.field(permission_classes=[ReadAccess], description="A job or a pipeline by id.")
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        return await load_job(info, str(id))


@strawberry.input
class PipelineInput:
    name: str | None = None
    collect: JSON = strawberry.field(
        description="CollectConfig keys (model, hook, corpus, n_tokens, ...); the output path is chosen by the server."
    )
    train: JSON = strawberry.field(
        description="TrainConfig keys (architecture, d_sae, l1_coefficient or k, ...)."
    )
    analyse: JSON | None = strawberry.field(
        default=None, description="AnalyseConfig keys; defaults when omitted."
    )
    evaluate: JSON = strawberry.field(
        default=True,
        description=(
            "Evaluate the SAE (EV, L0, CE loss) after training: true (default settings), false (skip), or "
            "EvaluateConfig keys (n_tokens, ce_contexts, ...)."
        ),
    )


@strawberry.input
class ImportSaeInput:
    source: str | None = strawberry.field(
        default=None,
        description="An SAE folder on the server (an absolute path under a configured data root: SAELens layout, "
        "Gemma Scope params.npz or saelab's own) or a Hugging Face Hub id org/name[:subfolder].",
    )
    release: str | None = strawberry.field(
        default=None, description="A SAELens release name (with saeId), instead of source."
    )
    sae_id: str | None = strawberry.field(default=None, description="The SAE id within release.")
    revision: str | None = strawberry.field(default=None, description="Hub branch, tag or commit.")
    name: str | None = None
    collect: JSON | None = strawberry.field(
        default=None,
        description="CollectConfig keys for the activations collected for the SAE (corpus, n_tokens, "
        "context_length, ...); model, hook and output come from the SAE and the server.",
    )
    analyse: JSON | None = strawberry.field(
        default=None, description="AnalyseConfig keys; defaults when omitted."
    )
    evaluate: JSON = strawberry.field(
        default=True,
        description="Evaluate the SAE (EV, L0, CE loss recovered) on the collected corpus: true, false or "
        "EvaluateConfig keys.",
    )


@strawberry.input(description="A sweep: several SAEs trained together on one activation stream.")
class SweepInput:
    name: str | None = None
    dataset_id: strawberry.ID | None = strawberry.field(
        default=None, description="Train on this collected dataset (or give `collect`)."
    )
    collect: JSON | None = strawberry.field(
        default=None, description="CollectConfig keys: collect a dataset first (or give `datasetId`)."
    )
    common: JSON | None = strawberry.field(
        default=None,
        description="TrainConfig keys every SAE shares (batch_size, n_steps, seed, ... must be shared).",
    )
    saes: list[JSON] = strawberry.field(
        description="One object per SAE: TrainConfig keys (architecture, d_sae, k, l1_coefficient, ...) and an "
        "optional `name`."
    )
    evaluate: JSON | None = strawberry.field(
        default=None, description="EvaluateConfig keys for every run; defaults when omitted."
    )
    analyse: JSON | None = strawberry.field(
        default=None, description="AnalyseConfig keys for every run; no analysis when omitted."
    )


def _sweep_config(input: SweepInput, name: str) -> SweepConfig:
    common: Any = input.common if input.common is not None else {}
    if not isinstance(common, dict):
        raise BadInput("common: expected an object of TrainConfig keys", field="common")
    for key in ("activations", "output"):
        if key in common or any(isinstance(s, dict) and key in s for s in input.saes):
            raise BadInput(f"{key}: chosen by the server; leave it out", field=f"common.{key}")
    if not all(isinstance(s, dict) for s in input.saes):
        raise BadInput("saes: expected one object of TrainConfig keys per SAE", field="saes")
    evaluate = validated("evaluate", EvaluateConfig, input.evaluate)
    data = {"name": name or "sweep", "common": common, "saes": list(input.saes)}
    data |= {"evaluate": evaluate.model_dump(mode="json")}
    if input.analyse is not None:
        data["analyse"] = validated("analyse", AnalyseConfig, input.analyse).model_dump(mode="json")
    return validated("sweep", SweepConfig, data)  # type: ignore[return-value]


async def _submitted(info: Info, call: Any, *args: Any, **kwargs: Any) -> Job:
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


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Collect -> train -> evaluate -> analyse; returns the pipeline as a PIPELINE job.",
    )
    async def submit_pipeline(self, info: Info, input: PipelineInput) -> Job:
        name = submission_name(input.name)
        collect = validated("collect", CollectConfig, input.collect)
        assert isinstance(collect, CollectConfig)
        if not isinstance(collect.hook, str):
            raise BadInput(pipelines.MULTI_HOOK_REFUSED, field="collect.hook")
        collect = await asyncio.to_thread(fenced_collect, collect, ctx(info).state.shared)
        train = validated("train", TrainConfig, input.train)
        analyse = validated("analyse", AnalyseConfig, input.analyse)
        evaluate = evaluate_choice(input.evaluate)
        return await _submitted(
            info, pipelines.submit_pipeline, collect, train, analyse, evaluate=evaluate, name=name
        )

    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Import an SAE (server folder, Hub id or SAELens release), collect activations for its model "
        "and hook, evaluate and analyse it; returns the pipeline as a PIPELINE job.",
    )
    async def import_sae(self, info: Info, input: ImportSaeInput) -> Job:
        settings = ctx(info).state.shared
        source = (
            await asyncio.to_thread(import_source, "source", input.source, settings) if input.source else None
        )
        spec = {
            "source": source,
            "release": input.release,
            "sae_id": input.sae_id,
            "revision": input.revision,
        }
        imp = validated("import", ImportConfig, {k: v for k, v in spec.items() if v is not None})
        collect: dict[str, Any] = dict(input.collect) if isinstance(input.collect, dict) else {}
        validated("import.collect", CollectConfig, input.collect)
        if "corpus" in collect:
            collect["corpus"] = await asyncio.to_thread(fenced_corpus, str(collect["corpus"]), settings)
        analyse = validated("analyse", AnalyseConfig, input.analyse)
        evaluate = evaluate_choice(input.evaluate)
        return await _submitted(
            info,
            pipelines.submit_import,
            imp,
            collect,
            analyse,
            evaluate,
            name=submission_name(input.name),
        )

    @strawberry.mutation(
        permission_classes=[TokenRequired], description="Train (evaluate, analyse) on a dataset."
    )
    async def submit_training(
        self,
        info: Info,
        dataset_id: strawberry.ID,
        config: JSON,
        name: str | None = None,
        analyse: JSON | None = None,
    ) -> Job:
        train = validated("train", TrainConfig, config)
        analysis = validated("analyse", AnalyseConfig, analyse)
        dataset = await loaders(info).datasets.load(str(dataset_id))
        if dataset is None:
            raise NotFound(f"dataset {str(dataset_id)!r} not found", datasetId=str(dataset_id))
        if dataset.status != m.ArtifactStatus.ready.value:
            raise BadInput(f"datasetId: dataset {str(dataset_id)!r} is not collected yet", field="datasetId")
        return await _submitted(
            info, pipelines.submit_training, str(dataset_id), train, analysis, name=submission_name(name)
        )

    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Train several SAEs in one job on one activation stream (each batch read once, fed to all), "
        "then evaluate (and analyse) each run; returns the pipeline as a PIPELINE job (see sweepRuns).",
    )
    async def submit_sweep(self, info: Info, input: SweepInput) -> Job:
        name = submission_name(input.name)
        if (input.dataset_id is None) == (input.collect is None):
            raise BadInput("give exactly one of datasetId and collect", field="datasetId")
        sweep = _sweep_config(input, name)
        if input.collect is not None:
            collect = validated("collect", CollectConfig, input.collect)
            if isinstance(collect, CollectConfig) and not isinstance(collect.hook, str):
                raise BadInput(pipelines.MULTI_HOOK_REFUSED, field="collect.hook")
            return await _submitted(info, pipelines.submit_sweep, sweep, collect=collect)
        dataset = await loaders(info).datasets.load(str(input.dataset_id))
        if dataset is None:
            raise NotFound(f"dataset {str(input.dataset_id)!r} not found", datasetId=str(input.dataset_id))
        if dataset.status != m.ArtifactStatus.ready.value:
            raise BadInput(
                f"datasetId: dataset {str(input.dataset_id)!r} is not collected yet", field="datasetId"
            )
        return await _submitted(info, pipelines.submit_sweep, sweep, dataset_id=str(input.dataset_id))

    @strawberry.mutation(
        permission_classes=[TokenRequired], description="(Re-)analyse every feature of a run."
    )
    async def submit_analysis(self, info: Info, run_id: strawberry.ID, options: JSON | None = None) -> Job:
        analyse = validated("analyse", AnalyseConfig, options)
        run = await require_run(info, str(run_id))
        if run.status != m.ArtifactStatus.ready.value:
            raise BadInput(f"runId: run {str(run_id)!r} has no trained SAE yet", field="runId")
        return await _submitted(info, pipelines.submit_analysis, str(run_id), analyse)

    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Cancel a job or a whole pipeline: queued jobs at once, running ones at their next progress report.",
    )
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job:
        job = await require_job(info, str(id))
        shared = ctx(info).state.shared
        if job.kind == JobKind.PIPELINE:
            await asyncio.to_thread(pipelines.cancel_pipeline, str(id), shared)
        elif not job.status.terminal:
            await asyncio.to_thread(pipelines.cancel_job, str(id), shared)
        loaders(info).forget_job(str(id))
        fresh = await load_job(info, str(id))
        assert fresh is not None
        return fresh


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(
        permission_classes=[ReadAccess],
        description="The job's current state, then every change (status, progress, message) until it ends; "
        "a pipeline id follows all its stages (each stage's own update, then the pipeline's); no jobId = every "
        "job's changes.",
    )
    async def job_updates(self, info: Info, job_id: strawberry.ID | None = None) -> AsyncGenerator[Job, None]:
        if job_id is None:
            async for job in _all_job_updates(info):
                yield job
            return
        async for job in _one_job_updates(info, str(job_id)):
            yield job


async def _all_job_updates(info: Info) -> AsyncGenerator[Job, None]:
    stream = await Listening(events.subscribe_jobs(ctx(info).state.shared)).started()
    try:
        async for event in stream:
            if isinstance(event, events.JobEvent):
                yield await _job_after_event(info, event)
    finally:
        await stream.aclose()


async def _one_job_updates(info: Info, job_id: str) -> AsyncGenerator[Job, None]:
    first = await require_job(info, job_id)
    pipeline = first.kind == JobKind.PIPELINE
    shared = ctx(info).state.shared
    source = events.subscribe_jobs(shared) if pipeline else events.subscribe_job(job_id, shared)
    stream = await Listening(source).started()
    try:
        current = await _fresh_job(info, job_id)  # read after subscribing: no change falls in between
        yield current
        if current.status.terminal:
            return
        async for event in stream:
            if not isinstance(event, events.JobEvent):
                continue
            if pipeline and event.pipeline_id != job_id:
                continue
            if pipeline:  # the stage's own update (its id, kind, progress, message), then the pipeline's
                yield await _job_after_event(info, event)
            job = (
                await _fresh_job(info, job_id)
                if pipeline
                else _apply_event(await _fresh_job(info, job_id), event)
            )
            yield job
            if job.status.terminal:
                return
    finally:
        await stream.aclose()


async def _fresh_job(info: Info, job_id: str) -> Job:
    """Re-read a job (the request's loader cache would return the state of the first read)."""
    loaders(info).forget_job(job_id)
    return await require_job(info, job_id)


async def _job_after_event(info: Info, event: events.JobEvent) -> Job:
    loaders(info).forget_job(event.job_id)
    job = await load_job(info, event.job_id)
    if job is None:  # published before its row was committed: show the event alone
        return Job(
            id=strawberry.ID(event.job_id),
            kind=JobKind(event.kind),
            status=JobStatus(event.status),
            progress=event.progress,
            stage=event.stage,
            message=public_text(event.message),
            error=None if event.error is None else public_text(event.error),
            attempts=event.attempts,
            created_at=datetime.fromtimestamp(event.ts),
            started_at=None,
            finished_at=None,
            parent_id=_id(event.pipeline_id),
            dataset_id=_id(event.dataset_id),
            run_id=_id(event.run_id),
        )
    return _apply_event(job, event)


def _apply_event(job: Job, event: events.JobEvent) -> Job:
    """The row's state overlaid with the event's (the event may be newer than the committed row)."""
    return replace(
        job,
        status=JobStatus(event.status),
        progress=event.progress,
        stage=event.stage,
        message=public_text(event.message),
        error=None if event.error is None else public_text(event.error),
        attempts=event.attempts,
    )
