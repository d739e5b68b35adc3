"""Pipelines: the ordered stages (collect -> train -> evaluate -> analyse) of one submission, and their jobs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Job, Pipeline
from shared.db.repositories.common import NotFound, get_row, rows_by_id


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
    return get_row(session, Pipeline, pipeline_id)


def list_pipelines(session: Session, first: int) -> list[Pipeline]:
    """The newest ``first`` pipelines (ties by id)."""
    stmt = select(Pipeline).order_by(Pipeline.created_at.desc(), Pipeline.id).limit(first)
    return list(session.scalars(stmt))


def pipelines_by_id(session: Session, ids: Sequence[str]) -> list[Pipeline | None]:
    """Pipeline rows for these ids (one query; None where absent)."""
    return rows_by_id(session, Pipeline, ids)


def stage_config(pipeline: Pipeline, kind: str) -> dict[str, Any]:
    """The config of stage ``kind`` of ``pipeline``."""
    for stage in pipeline.stages:
        if stage["kind"] == kind:
            return dict(stage.get("config") or {})
    raise NotFound(
        f"pipeline {pipeline.id}: has no {kind!r} stage (stages: {[s['kind'] for s in pipeline.stages]})"
    )


def set_stage_config(session: Session, pipeline_id: str, kind: str, config: dict[str, Any]) -> Pipeline:
    """Replace the config of stage ``kind`` (an import stage completes its collect stage with the SAE's hook)."""
    row = get_pipeline(session, pipeline_id)
    stage_config(row, kind)  # NotFound names the stages when there is no such one
    row.stages = [
        {**stage, "config": dict(config)} if stage["kind"] == kind else stage for stage in row.stages
    ]
    return row


def next_stage(pipeline: Pipeline, kind: str) -> str | None:
    """The stage after ``kind`` in ``pipeline``, or None when ``kind`` is the last."""
    kinds = [s["kind"] for s in pipeline.stages]
    i = kinds.index(kind)
    return kinds[i + 1] if i + 1 < len(kinds) else None


def pipeline_jobs(session: Session, pipeline_id: str) -> list[Job]:
    """The jobs of a pipeline in creation order."""
    return jobs_of_pipelines(session, [pipeline_id])[0]


def jobs_of_pipelines(session: Session, pipeline_ids: Sequence[str]) -> list[list[Job]]:
    """The jobs of each pipeline in creation order (one query)."""
    stmt = select(Job).where(Job.pipeline_id.in_(set(pipeline_ids))).order_by(Job.created_at, Job.id)
    grouped: dict[str, list[Job]] = defaultdict(list)
    for job in session.scalars(stmt):
        grouped[job.pipeline_id or ""].append(job)
    return [grouped.get(i, []) for i in pipeline_ids]


def active_pipeline(
    session: Session, stages: list[dict[str, Any]], dataset_id: str | None, run_id: str | None
) -> tuple[Pipeline, Job] | None:
    """An unfinished pipeline with exactly these stages over this dataset and run, with its current job.

    Unfinished: its newest job is queued or running (a pipeline between stages has its next job queued)."""
    stmt = select(Pipeline).where(Pipeline.dataset_id == dataset_id, Pipeline.run_id == run_id)
    for pipeline in session.scalars(stmt.order_by(Pipeline.created_at.desc())):
        if pipeline.stages != stages:
            continue
        jobs = pipeline_jobs(session, pipeline.id)
        if jobs and jobs[-1].status in ("queued", "running"):
            return pipeline, jobs[-1]
    return None
