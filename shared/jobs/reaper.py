"""The reaper: requeue (attempts left) or fail (none left) running jobs whose worker stopped heartbeating.

Every worker process runs one (``Reaper``, a daemon thread) beside its tasks; each stale job is moved by a
conditional update that only one reaper wins, then dispatched again or published as failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.db.models import Job, JobStatus, utcnow
from shared.db.repositories.jobs import reap_job, stale_jobs
from shared.db.session import session_scope
from shared.jobs.contracts import report_task_lost
from shared.jobs.lifecycle import dispatch_job, publish_row
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


def reap_stale_jobs(settings: Settings | None = None) -> list[tuple[str, str]]:
    """Requeue (attempts left) or fail (none left) every running job whose heartbeat is too old.

    Returns ``[(job_id, "requeued" | "failed")]``. Safe to run from several workers at once: each job is moved
    by a conditional update that only one of them wins.
    """
    settings = settings or get_settings()
    stale_before = utcnow() - timedelta(seconds=settings.heartbeat_timeout)
    with session_scope() as s:
        stale = stale_jobs(s, stale_before)
    return [
        moved
        for job in stale
        if (moved := _reap(job, stale_before, "stopped heartbeating", settings, dispatch=True)) is not None
    ]


def reap_orphans(is_gone: Callable[[str], bool], settings: Settings | None = None) -> list[tuple[str, str]]:
    """At once, without waiting for the heartbeat timeout: requeue or fail the running jobs whose worker
    ``is_gone(worker)`` says no longer exists (the embedded mode's previous server process). Rows and events
    only: the caller enqueues the queued jobs (``EmbeddedWorker`` resumes every queued job when it starts)."""
    settings = settings or get_settings()
    now = utcnow() + timedelta(seconds=1)  # any heartbeat so far is older than this
    with session_scope() as s:
        running = stale_jobs(s, now)
    return [
        moved
        for job in running
        if job.worker is not None
        and is_gone(job.worker)
        and (moved := _reap(job, now, "is gone (its process no longer exists)", settings, dispatch=False))
        is not None
    ]


def _reap(
    job: Job, stale_before: datetime, why: str, settings: Settings, dispatch: bool
) -> tuple[str, str] | None:
    """Move one orphaned job: queued again ("orphaned, requeued: ...") or failed; publish it as it happens."""
    last = job.heartbeat_at.strftime("%Y-%m-%d %H:%M:%S UTC") if job.heartbeat_at else "never"
    requeue = job.attempts < settings.max_attempts
    if requeue:
        status = JobStatus.queued
        message = f"orphaned, requeued: worker {job.worker} {why} (last heartbeat {last})"
    else:
        status = JobStatus.failed
        message = (
            f"orphaned: worker {job.worker} {why} (last heartbeat {last}) and the job had used all "
            f"{job.attempts} attempts"
        )
    with session_scope() as s:
        moved = reap_job(s, job.id, stale_before, status, message)
    if not moved:
        return None
    log.warning("reaper: job %s (%s): %s", job.id, job.kind, message)
    _report_lost_task(job, f"worker {job.worker} {why} (last heartbeat {last})", settings)
    if requeue and dispatch:
        dispatch_job(job, settings)
    else:
        publish_row(job.id, settings)
    return job.id, "requeued" if requeue else "failed"


def _report_lost_task(job: Job, reason: str, settings: Settings) -> None:
    """Distributed mode: show the lost delivery's Celery task as failed in Flower (else STARTED forever)."""
    if job.task_id is None or settings.broker is None:
        return
    node = (job.worker or "").rsplit("/", 1)[0] or "saelab-reaper"  # "<node>/<pid>" -> the lost worker's node
    try:
        report_task_lost(job.task_id, node, reason, settings)
    except Exception as err:  # the job itself was moved; only the monitoring lacks the news
        log.warning("reaper: could not report task %s of job %s lost: %s", job.task_id, job.id, err)


class Reaper:
    """Runs ``reap_stale_jobs`` every ``interval`` seconds in a daemon thread (one per worker process)."""

    def __init__(self, settings: Settings | None = None, interval: float | None = None) -> None:
        self.settings = settings or get_settings()
        self.interval = (
            interval or self.settings.reaper_interval or max(self.settings.heartbeat_timeout / 3, 1.0)
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="saelab-reaper", daemon=True)

    def start(self) -> Reaper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                reap_stale_jobs(self.settings)
            except Exception as err:  # the next sweep retries; a dead reaper thread would hide lost jobs
                log.warning("reaper sweep failed: %s", err)
