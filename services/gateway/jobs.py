"""GraphQL domain ``jobs``: job and pipeline status, submission and cancellation, live ``jobUpdates``.

Submissions are validated by ``services.gateway.submission`` and go through ``shared.jobs.pipelines`` (enqueue by
name; the embedded worker or Celery runs them). The job types live in ``services.gateway.job_types``; the
``importSae`` and ``submitSweep`` mutations in their own domains (``imports``, ``sweeps``), listed here so that the
root Mutation keeps its field order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace
from datetime import datetime

import strawberry
from strawberry.types import Info

from services.gateway import imports, sweeps
from services.gateway.auth import ReadAccess, TokenRequired, read_field
from services.gateway.common import JSON, Listening, ctx, loaders, optional, require_run
from services.gateway.errors import BadInput
from services.gateway.job_types import (
    Job,
    JobKind,
    JobStatus,
    collected_dataset,
    job_from_pipeline,
    job_from_row,
    load_job,
    optional_id,
    require_job,
    submitted,
)
from services.gateway.limits import check_page_size
from services.gateway.submission import evaluate_choice, fenced_collect, submission_name, validated
from shared.config import AnalyseConfig, CollectConfig, TrainConfig
from shared.db import models as m
from shared.db.repositories.jobs import list_jobs
from shared.db.repositories.pipelines import list_pipelines
from shared.jobs import events, pipelines
from shared.paths import public_text


@strawberry.type
class JobQueries:
    @read_field("Jobs newest first (pipelines as PIPELINE jobs).")
    async def jobs(
        self, info: Info, status: JobStatus | None = None, kind: JobKind | None = None, first: int = 50
    ) -> list[Job] | None:
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

    @read_field("A job or a pipeline by id.")
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
    analyse: JSON | None = optional("AnalyseConfig keys; defaults when omitted.")
    evaluate: JSON = strawberry.field(
        default=True,
        description=(
            "Evaluate the SAE (EV, L0, CE loss) after training: true (default settings), false (skip), or "
            "EvaluateConfig keys (n_tokens, ce_contexts, ...)."
        ),
    )


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Collect -> train -> evaluate -> analyse; returns the pipeline as a PIPELINE job.",
    )
    async def submit_pipeline(self, info: Info, input: PipelineInput) -> Job | None:
        name = submission_name(input.name)
        collect = validated("collect", CollectConfig, input.collect)
        assert isinstance(collect, CollectConfig)
        if not isinstance(collect.hook, str):
            raise BadInput(pipelines.MULTI_HOOK_REFUSED, field="collect.hook")
        collect = await asyncio.to_thread(fenced_collect, collect, ctx(info).state.shared)
        train = validated("train", TrainConfig, input.train)
        analyse = validated("analyse", AnalyseConfig, input.analyse)
        evaluate = evaluate_choice(input.evaluate)
        return await submitted(
            info, pipelines.submit_pipeline, collect, train, analyse, evaluate=evaluate, name=name
        )

    import_sae = imports.import_sae

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
    ) -> Job | None:
        train = validated("train", TrainConfig, config)
        analysis = validated("analyse", AnalyseConfig, analyse)
        await collected_dataset(info, str(dataset_id))
        return await submitted(
            info, pipelines.submit_training, str(dataset_id), train, analysis, name=submission_name(name)
        )

    submit_sweep = sweeps.submit_sweep

    @strawberry.mutation(
        permission_classes=[TokenRequired], description="(Re-)analyse every feature of a run."
    )
    async def submit_analysis(
        self, info: Info, run_id: strawberry.ID, options: JSON | None = None
    ) -> Job | None:
        analyse = validated("analyse", AnalyseConfig, options)
        run = await require_run(info, str(run_id))
        if run.status != m.ArtifactStatus.ready.value:
            raise BadInput(f"runId: run {str(run_id)!r} has no trained SAE yet", field="runId")
        return await submitted(info, pipelines.submit_analysis, str(run_id), analyse)

    @strawberry.mutation(
        permission_classes=[TokenRequired],
        description="Cancel a job or a whole pipeline: queued jobs at once, running ones at their next progress report.",
    )
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job | None:
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
    if job is None:  # published before its row was committed: the event's job, its state the event's alone
        job = Job(
            id=strawberry.ID(event.job_id),
            kind=JobKind(event.kind),
            status=JobStatus.QUEUED,
            progress=0.0,
            stage="",
            message="",
            error=None,
            attempts=0,
            created_at=datetime.fromtimestamp(event.ts),
            started_at=None,
            finished_at=None,
            parent_id=optional_id(event.pipeline_id),
            dataset_id=optional_id(event.dataset_id),
            run_id=optional_id(event.run_id),
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
