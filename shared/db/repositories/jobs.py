"""Jobs: one stage of a pipeline on a worker; every state change is a conditional UPDATE.

``claim_job`` only succeeds on a queued job or one whose worker stopped heartbeating, so two deliveries of the same
task can never both run it; progress, finish and reap are conditional on the worker that holds the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from shared.db.models import Job, JobKind, JobStatus, utcnow
from shared.db.repositories.common import get_row, rows_by_id


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
    return get_row(session, Job, job_id)


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


def claim_job(
    session: Session, job_id: str, worker: str, stale_before: datetime, task_id: str | None = None
) -> Job | None:
    """Atomically take a job to run: only a queued job, or a running one whose heartbeat is older than
    ``stale_before`` (its worker vanished). ``task_id``: the Celery delivery's id (None embedded). Returns the
    claimed job, or None when someone else holds it."""
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
            task_id=task_id,
            attempts=Job.attempts + 1,
            heartbeat_at=now,
            started_at=func.coalesce(Job.started_at, now),
            error=None,
            progress=0.0,  # a new attempt starts over (a resumed one jumps to its checkpoint at once)
            message="",  # "orphaned, requeued: ..." or a retry's reason was about the previous attempt
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


def jobs_by_id(session: Session, ids: Sequence[str]) -> list[Job | None]:
    """Job rows for these ids (one query; None where absent)."""
    return rows_by_id(session, Job, ids)


def child_jobs(session: Session, parent_id: str) -> list[Job]:
    """Jobs started by job ``parent_id`` (a sweep's per-run pipelines), oldest first."""
    stmt = select(Job).where(Job.parent_id == parent_id).order_by(Job.created_at, Job.id)
    return list(session.scalars(stmt))


def latest_train_jobs(session: Session, run_ids: Sequence[str]) -> list[Job | None]:
    """The newest training job of each run (its status is the run's status)."""
    stmt = (
        select(Job)
        .where(Job.run_id.in_(set(run_ids)), Job.kind == JobKind.train.value)
        .order_by(Job.created_at, Job.id)
    )
    latest = {job.run_id: job for job in session.scalars(stmt)}
    return [latest.get(i) for i in run_ids]
