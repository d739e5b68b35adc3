"""Job lifecycle shared by every task: claim, heartbeat, progress, cancel, retry or fail, then the next stage.

A task body is a plain function ``body(ctx: JobContext) -> str`` (the success message). ``execute_job`` wraps it:

1. claim the job row atomically (a duplicate delivery of a job that is running elsewhere, or already finished, is
   dropped; a job whose worker stopped heartbeating is taken over);
2. heartbeat from a background thread while the body runs; progress is written at most once per
   ``progress_interval`` and published as a live event; cancellation is noticed at the next progress report;
3. on success mark it succeeded and enqueue the pipeline's next stage (no task ever waits on another);
   a transient error (database, S3, broker, network) requeues it with exponential backoff until
   ``max_attempts``; any other error fails it with a readable message stored on the row.

Errors are classified in ``shared.jobs.errors``; the reaper (``shared.jobs.reaper``) requeues or fails running jobs
whose worker vanished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from shared.db.models import Job, JobStatus, utcnow
from shared.db.repositories.jobs import (
    claim_job,
    create_job,
    fail_queued_job,
    finish_job,
    get_job,
    heartbeat_job,
    update_job_progress,
)
from shared.db.repositories.metrics import last_metric_step, upsert_metrics
from shared.db.repositories.pipelines import get_pipeline, next_stage, stage_config
from shared.db.session import session_scope
from shared.jobs.contracts import KIND_TASKS, PAYLOADS, TaskPayload, enqueue
from shared.jobs.errors import JobCancelled, JobLost, backoff, describe_error, is_transient, worker_name
from shared.jobs.events import JobEvent, publish_job, publish_metrics
from shared.paths import public_text
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------------------
# Context given to a task body
# --------------------------------------------------------------------------------------------------------------


def job_event(job: Job) -> JobEvent:
    """The live event describing ``job``'s current row."""
    return JobEvent(
        job_id=job.id,
        kind=job.kind,
        status=job.status,
        progress=float(job.progress or 0.0),
        stage=job.stage or "",
        message=job.message or "",
        error=job.error,
        attempts=job.attempts,
        pipeline_id=job.pipeline_id,
        dataset_id=job.dataset_id,
        run_id=job.run_id,
    )


def publish_row(job_id: str, settings: Settings | None = None) -> None:
    """Publish the current state of a job row."""
    with session_scope() as s:
        job = s.get(Job, job_id)
        event = job_event(job) if job is not None else None
    if event is not None:
        publish_job(event, settings)


@dataclass
class JobContext:
    """What a task body gets: its payload, stage config, progress/metrics sinks and cancellation checks."""

    name: str
    payload: Any
    job_id: str
    kind: str
    pipeline_id: str | None
    attempt: int
    config: dict[str, Any]
    worker: str
    settings: Settings
    cancel_requested: bool = False
    lost: bool = False
    _stage: str = ""
    _message: str = ""
    _progress: float = 0.0
    _last_write: float = field(default=float("-inf"))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- progress -------------------------------------------------------------------------------------

    def progress(self, done: float, total: float, message: str = "") -> None:
        """ProgressSink: record ``done/total`` (rate-limited) and raise JobCancelled/JobLost when told to stop."""
        self._progress = done / total if total else 0.0
        self._message = message or self._message
        self._write(force=total > 0 and done >= total)
        self.raise_if_stopped()

    def stage(self, stage: str, message: str = "") -> None:
        """Enter a named stage (e.g. ``download``, ``train``, ``upload``); always written and published."""
        self._stage, self._message = stage, message or stage
        self._write(force=True)
        self.raise_if_stopped()

    def _write(self, force: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_write < self.settings.progress_interval:
                return
            self._last_write = now
        self._message = public_text(self._message, self.settings)
        with session_scope() as s:
            control = update_job_progress(
                s, self.job_id, self.worker, self._progress, self._message, self._stage or None
            )
        self.cancel_requested = self.cancel_requested or control.cancel_requested
        self.lost = self.lost or not control.owned
        if control.owned:
            publish_job(
                JobEvent(
                    job_id=self.job_id,
                    kind=self.kind,
                    status=JobStatus.running.value,
                    progress=min(max(self._progress, 0.0), 1.0),
                    stage=self._stage,
                    message=self._message,
                    attempts=self.attempt,
                    pipeline_id=self.pipeline_id,
                    dataset_id=getattr(self.payload, "dataset_id", None),
                    run_id=getattr(self.payload, "run_id", None),
                ),
                self.settings,
            )

    # --- cancellation ---------------------------------------------------------------------------------

    def should_stop(self) -> bool:
        """True once the job was cancelled or taken over (checked against the database, rate-limited)."""
        if not (self.cancel_requested or self.lost):
            self._write(force=False)
        return self.cancel_requested or self.lost

    def raise_if_stopped(self) -> None:
        """Raise JobLost / JobCancelled when the job must stop."""
        if self.lost:
            raise JobLost(f"job {self.job_id} was taken over by another worker")
        if self.cancel_requested:
            raise JobCancelled(f"job {self.job_id} was cancelled")

    # --- metrics --------------------------------------------------------------------------------------

    def metrics_sink(self, run_id: str) -> Callable[[dict[str, Any]], None]:
        """An ``on_metrics`` callback: one row per (run, step, name) in the database, and a live event.

        A resumed run re-logs the steps between its checkpoint and where its lost worker stopped: their rows are
        overwritten (same values), but no live event is sent again for a step that already had one, so a
        client never receives a step twice."""
        with session_scope() as s:
            published = last_metric_step(s, run_id)
        already_sent = -1 if published is None else published

        def on_metrics(row: dict[str, Any]) -> None:
            step = int(row["step"])
            with session_scope() as s:
                upsert_metrics(s, run_id, step, row)
            if step > already_sent:
                publish_metrics(run_id, step, row, self.settings)

        return on_metrics


# --------------------------------------------------------------------------------------------------------------
# Heartbeat
# --------------------------------------------------------------------------------------------------------------


class Heartbeat:
    """Refreshes a running job's heartbeat every ``heartbeat_interval`` seconds from a daemon thread."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{ctx.job_id[:8]}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.ctx.settings.heartbeat_interval):
            try:
                with session_scope() as s:
                    owned = heartbeat_job(s, self.ctx.job_id, self.ctx.worker)
            except Exception as err:  # a missed beat is retried at the next interval; the reaper has a margin
                log.warning("heartbeat of job %s failed: %s", self.ctx.job_id, err)
                continue
            if not owned:
                self.ctx.lost = True
                log.warning("job %s is no longer held by %s", self.ctx.job_id, self.ctx.worker)
                return


# --------------------------------------------------------------------------------------------------------------
# Running a task body
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one delivery ended."""

    status: Literal["succeeded", "failed", "cancelled", "retry", "dropped"]
    message: str = ""
    countdown: float = 0.0


def payload_for(job: Job) -> TaskPayload:
    """The task payload that executes ``job``."""
    name = KIND_TASKS[job.kind]
    fields: dict[str, Any] = {"job_id": job.id}
    if job.kind in ("collect", "sweep"):
        fields["dataset_id"] = job.dataset_id
    else:
        fields["run_id"] = job.run_id
    return PAYLOADS[name].model_validate(fields)


def _claim(
    name: str, payload: TaskPayload, worker: str, settings: Settings, task_id: str | None = None
) -> tuple[JobContext | None, str]:
    kind = name.removeprefix("saelab.")
    stale_before = utcnow() - timedelta(seconds=settings.heartbeat_timeout)
    with session_scope() as s:
        job = s.get(Job, payload.job_id)
        if job is None:
            return None, f"job {payload.job_id} does not exist"
        if job.kind != kind:
            return None, f"job {job.id} is a {job.kind} job, delivered to {name}"
        if JobStatus(job.status).terminal:
            return None, f"job {job.id} already {job.status}"
        claimed = claim_job(s, job.id, worker, stale_before, task_id)
        if claimed is None:
            return None, f"job {job.id} is {job.status} on {job.worker} (heartbeat fresh)"
        config = stage_config(get_pipeline(s, job.pipeline_id), kind) if job.pipeline_id else {}
        ctx = JobContext(
            name=name,
            payload=payload,
            job_id=job.id,
            kind=kind,
            pipeline_id=job.pipeline_id,
            attempt=claimed.attempts,
            config=config,
            worker=worker,
            settings=settings,
        )
    return ctx, ""


def execute_job(
    name: str,
    payload: TaskPayload | dict[str, Any],
    body: Callable[[JobContext], str],
    settings: Settings | None = None,
    worker: str | None = None,
    task_id: str | None = None,
) -> Outcome:
    """Run one delivery of task ``name``: claim, heartbeat, body, record the outcome, enqueue what follows.

    ``task_id``: the Celery task id of this delivery, kept on the job row (the reaper reports it lost)."""
    settings = settings or get_settings()
    worker = worker or worker_name()
    if isinstance(payload, dict):
        payload = PAYLOADS[name].model_validate(payload)
    ctx, reason = _claim(name, payload, worker, settings, task_id)
    if ctx is None:
        log.info("%s: dropping delivery: %s", name, reason)
        return Outcome("dropped", reason)
    if ctx.attempt > settings.max_attempts:
        message = f"gave up after {ctx.attempt - 1} attempts (its workers were lost or errors kept recurring)"
        return _finish(ctx, JobStatus.failed, message, error=message)
    publish_row(ctx.job_id, settings)
    log.info("%s: job %s started (attempt %d on %s)", name, ctx.job_id, ctx.attempt, worker)
    started = time.monotonic()
    outcome = _run_body(ctx, body)
    log.info(
        "%s: job %s ended %s in %.1fs (attempt %d): %s",
        name,
        ctx.job_id,
        outcome.status,
        time.monotonic() - started,
        ctx.attempt,
        outcome.message,
    )
    return outcome


def _run_body(ctx: JobContext, body: Callable[[JobContext], str]) -> Outcome:
    try:
        with Heartbeat(ctx):
            message = body(ctx)
    except JobLost as exc:
        log.warning("%s: %s; leaving it to its new holder", ctx.name, exc)
        return Outcome("dropped", str(exc))
    except JobCancelled:
        return _finish(ctx, JobStatus.cancelled, "cancelled")
    except Exception as exc:  # every failure is recorded on the job row, then classified
        return _handle_error(ctx, exc)
    if ctx.lost:
        return Outcome("dropped", f"job {ctx.job_id} was taken over by another worker")
    if ctx.cancel_requested:
        return _finish(ctx, JobStatus.cancelled, "cancelled")
    return _succeed(ctx, message)


def _handle_error(ctx: JobContext, exc: Exception) -> Outcome:
    text = public_text(describe_error(exc), ctx.settings)
    if is_transient(exc) and ctx.attempt < ctx.settings.max_attempts:
        countdown = backoff(ctx.attempt, ctx.settings)
        log.warning("%s: job %s transient error (attempt %d): %s", ctx.name, ctx.job_id, ctx.attempt, text)
        outcome = _finish(
            ctx, JobStatus.queued, f"retrying in {countdown:.0f}s after a transient error: {text}"
        )
        try:
            enqueue(ctx.name, ctx.payload, countdown=countdown, settings=ctx.settings)
        except Exception as err:
            with session_scope() as s:
                fail_queued_job(
                    s, ctx.job_id, public_text(f"{text}; and it could not be requeued: {describe_error(err)}")
                )
            publish_row(ctx.job_id, ctx.settings)
            return Outcome("failed", text)
        return Outcome("retry", outcome.message, countdown)
    if is_transient(
        exc
    ):  # a dependency stayed down through every attempt: worth resubmitting once it is back
        text = f"retryable: a transient error persisted through {ctx.attempt} attempts: {text}"
    log.error("%s: job %s failed: %s", ctx.name, ctx.job_id, text, exc_info=exc)
    return _finish(ctx, JobStatus.failed, f"failed: {text}", error=text)


def _finish(ctx: JobContext, status: JobStatus, message: str, error: str | None = None) -> Outcome:
    message = public_text(message, ctx.settings)
    error = None if error is None else public_text(error, ctx.settings)
    with session_scope() as s:
        finish_job(s, ctx.job_id, ctx.worker, status, message, error)
    publish_row(ctx.job_id, ctx.settings)
    return Outcome("retry" if status == JobStatus.queued else status.value, message)  # type: ignore[arg-type]


def _succeed(ctx: JobContext, message: str) -> Outcome:
    """Mark the job succeeded and create the next stage's job in the same transaction; then enqueue it."""
    message = public_text(message, ctx.settings)
    next_job: Job | None = None
    with session_scope() as s:
        if not finish_job(s, ctx.job_id, ctx.worker, JobStatus.succeeded, message):
            return Outcome("dropped", f"job {ctx.job_id} changed hands before it could be marked succeeded")
        job = get_job(s, ctx.job_id)
        if job.pipeline_id is not None:
            pipeline = get_pipeline(s, job.pipeline_id)
            kind = next_stage(pipeline, job.kind)
            if kind is not None:
                next_job = create_job(
                    s,
                    kind,
                    pipeline_id=pipeline.id,
                    parent_id=job.id,
                    dataset_id=pipeline.dataset_id,
                    run_id=pipeline.run_id,
                )
    publish_row(ctx.job_id, ctx.settings)
    if next_job is not None:
        dispatch_job(next_job, ctx.settings)
    return Outcome("succeeded", message)


def dispatch_job(job: Job, settings: Settings | None = None) -> None:
    """Publish a queued ``job`` as it is, then enqueue the task that runs it; if the transport refuses, fail the
    job with the reason.

    Published first: once enqueued, an idle worker may claim the job at once, and a row read after that would
    carry its "running" state, never the queued one (a requeue's "orphaned, requeued" message would be lost).
    """
    settings = settings or get_settings()
    publish_row(job.id, settings)
    try:
        enqueue(KIND_TASKS[job.kind], payload_for(job), settings=settings)
    except Exception as err:
        with session_scope() as s:
            fail_queued_job(
                s,
                job.id,
                public_text(f"could not enqueue the {job.kind} task: {describe_error(err)}", settings),
            )
        publish_row(job.id, settings)
        raise
