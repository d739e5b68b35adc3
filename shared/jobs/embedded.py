"""Embedded mode: the same tasks on an in-process worker thread (no broker), plus the submission API.

``submit_pipeline(collect, train, analyse)`` (and the other ``shared.jobs.pipelines`` submissions, wrapped here)
is what the CLI and the dev seed call, in both modes: with ``SAELAB_BROKER_URL`` set it enqueues by name through
Celery; without it, it first starts (once per process) an ``EmbeddedWorker`` that runs the tasks in a background
thread on the SQLite database and the local artifact directory. The gateway starts that worker at startup. The job rows, stages, retries, cancellation and events are the same; only the transports differ.
"""

from __future__ import annotations

import functools
import heapq
import importlib
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import ParamSpec

from shared.db.models import Job, JobStatus
from shared.db.repositories.common import NotFound
from shared.db.repositories.jobs import fail_queued_job, list_jobs
from shared.db.session import session_scope
from shared.jobs import pipelines
from shared.jobs.contracts import (
    ANALYSE,
    COLLECT,
    EVALUATE,
    EXPLAIN,
    IMPORT,
    SWEEP,
    TRAIN,
    TaskPayload,
    set_local_dispatcher,
)
from shared.jobs.errors import backoff, describe_error, is_transient
from shared.jobs.lifecycle import dispatch_job, execute_job, publish_row
from shared.jobs.pipelines import Submission
from shared.jobs.reaper import Reaper, reap_orphans
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

TASK_BODIES: dict[str, tuple[str, str]] = {
    COLLECT: ("services.collector.tasks", "run_collect"),
    TRAIN: ("services.trainer.tasks", "run_train"),
    EVALUATE: ("services.trainer.tasks", "run_evaluate"),
    SWEEP: ("services.trainer.tasks", "run_sweep"),
    ANALYSE: ("services.analyser.tasks", "run_analyse"),
    IMPORT: ("services.collector.import_task", "run_import"),
    EXPLAIN: ("services.analyser.explain_task", "run_explain"),
}
"""Task name -> (module, function) of its body; imported when first run (keeps torch out of the gateway)."""


def task_body(name: str) -> Callable[..., str]:
    """The body function of task ``name``."""
    module, attr = TASK_BODIES[name]
    return getattr(importlib.import_module(module), attr)


class LocalQueue:
    """A thread-safe delay queue of (task name, payload): the embedded mode's broker."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, TaskPayload]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()

    def send(self, name: str, payload: TaskPayload, countdown: float = 0.0) -> None:
        with self._cond:
            heapq.heappush(
                self._heap, (time.monotonic() + max(countdown, 0.0), next(self._seq), name, payload)
            )
            self._cond.notify_all()

    def get(self, timeout: float) -> tuple[str, TaskPayload] | None:
        """The next due item, waiting up to ``timeout`` seconds; None when nothing is due."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    _, _, name, payload = heapq.heappop(self._heap)
                    return name, payload
                wait = deadline - now
                if self._heap:
                    wait = min(wait, self._heap[0][0] - now)
                if wait <= 0:
                    return None
                self._cond.wait(wait)

    def __len__(self) -> int:
        with self._cond:
            return len(self._heap)


class EmbeddedWorker:
    """Runs queued tasks one at a time in a daemon thread; a reaper thread watches heartbeats."""

    def __init__(self, settings: Settings | None = None, migrate: bool = True) -> None:
        self.settings = settings or get_settings()
        self.migrate = migrate
        self.queue = LocalQueue()
        self.name = f"embedded/{socket.gethostname()}/{os.getpid()}"
        self._stop = threading.Event()
        self._busy = threading.Event()
        self._thread: threading.Thread | None = None
        self._reaper: Reaper | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> EmbeddedWorker:
        """Migrate the database, become the local dispatcher, resume queued jobs, start the threads."""
        if self.settings.broker is not None:
            raise RuntimeError(
                "SAELAB_BROKER_URL is set: tasks go to the Celery workers, not an embedded worker"
            )
        if self.running:
            return self
        if self.migrate:
            from shared.db.prestart import upgrade

            upgrade(self.settings.database)
        set_local_dispatcher(self.queue)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="saelab-embedded-worker", daemon=True)
        self._thread.start()
        self._reaper = Reaper(self.settings).start()
        reap_orphans(self._gone, self.settings)
        self._resume_queued()
        log.info("embedded worker %s started", self.name)
        return self

    def _gone(self, worker: str) -> bool:
        """True when ``worker`` is an embedded worker of a process on this host that no longer exists (a server
        that was killed: its running job is orphaned now, not after the heartbeat timeout)."""
        parts = worker.split("/")
        if parts[0] != "embedded" or worker == self.name:
            return False
        if len(parts) == 3 and parts[1] != socket.gethostname():
            return False  # another host's process: only its heartbeat can tell
        pid = parts[-1]
        if not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _resume_queued(self) -> None:
        """Jobs left queued by a previous process lost their in-memory queue: enqueue them again."""
        with session_scope() as s:
            queued = list_jobs(s, status=JobStatus.queued.value, limit=10_000)
        for job in sorted(queued, key=lambda j: j.created_at):
            dispatch_job(job, self.settings)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current task (a running task is not interrupted; it resumes on the next start)."""
        self._stop.set()
        if self._reaper is not None:
            self._reaper.stop()
        if self._thread is not None:
            self._thread.join(timeout)
        set_local_dispatcher(None)

    def __enter__(self) -> EmbeddedWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def idle(self) -> bool:
        """Nothing queued and nothing running."""
        return len(self.queue) == 0 and not self._busy.is_set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            item = self.queue.get(timeout=0.2)
            if item is None:
                continue
            self._busy.set()
            try:
                self._run(*item)
            finally:
                self._busy.clear()

    def _run(self, name: str, payload: TaskPayload) -> None:
        try:
            execute_job(name, payload, task_body(name), settings=self.settings, worker=self.name)
        except Exception as err:  # the job row could not even be read or written, or the task failed to load
            if is_transient(err):
                delay = backoff(1, self.settings)
                log.warning("embedded worker: %s for job %s; retrying in %.0fs", err, payload.job_id, delay)
                self.queue.send(name, payload, countdown=delay)
                return
            log.exception("embedded worker: delivery of %s for job %s failed", name, payload.job_id)
            with session_scope() as s:
                fail_queued_job(s, payload.job_id, f"the {name} task could not run: {describe_error(err)}")
            publish_row(payload.job_id, self.settings)


_lock = threading.Lock()
_worker: EmbeddedWorker | None = None


def get_worker(settings: Settings | None = None) -> EmbeddedWorker | None:
    """The process's embedded worker, started on first use; None when a broker is configured."""
    global _worker
    settings = settings or get_settings()
    if settings.broker is not None:
        return None
    with _lock:
        if _worker is None or not _worker.running:
            _worker = EmbeddedWorker(settings).start()
        return _worker


def stop_worker() -> None:
    """Stop the process's embedded worker (if any)."""
    global _worker
    with _lock:
        if _worker is not None:
            _worker.stop()
            _worker = None


# --------------------------------------------------------------------------------------------------------------
# Submission API (both modes)
# --------------------------------------------------------------------------------------------------------------


P = ParamSpec("P")


def _with_worker(submit: Callable[P, Submission]) -> Callable[P, Submission]:
    """``submit`` (from ``shared.jobs.pipelines``), after starting this process's worker when no broker is set."""

    @functools.wraps(submit)
    def submit_here(*args: P.args, **kwargs: P.kwargs) -> Submission:
        get_worker()
        return submit(*args, **kwargs)

    return submit_here


submit_pipeline = _with_worker(pipelines.submit_pipeline)
"""Submit collect -> train -> evaluate -> analyse; returns the pipeline, dataset, run and first job ids."""
submit_training = _with_worker(pipelines.submit_training)
"""Train (then evaluate / analyse) on an existing dataset."""
submit_analysis = _with_worker(pipelines.submit_analysis)
"""Analyse an existing trained run (its previous analysis is replaced)."""
submit_evaluation = _with_worker(pipelines.submit_evaluation)
"""Evaluate an existing trained run."""
submit_explanation = _with_worker(pipelines.submit_explanation)
"""Explain features of an analysed run with the configured LLM."""
submit_import = _with_worker(pipelines.submit_import)
"""Import an SAE, collect activations for its model and hook, evaluate and analyse it."""
submit_sweep = _with_worker(pipelines.submit_sweep)
"""Train the SAEs of a sweep in one job (then evaluate / analyse each run in a child pipeline)."""
wait_for_pipeline = pipelines.wait_for_pipeline
wait_for_sweep = pipelines.wait_for_sweep


def cancel_job(job_id: str) -> Job:
    """Cancel a job (or, given a pipeline id, every unfinished job of that pipeline)."""
    with session_scope() as s:
        is_job = s.get(Job, job_id) is not None
    if is_job:
        return pipelines.cancel_job(job_id)
    cancelled = pipelines.cancel_pipeline(job_id)
    if not cancelled:
        raise NotFound(f"jobs: no job or unfinished pipeline with id {job_id!r}")
    return cancelled[0]


__all__: list[str] = [
    "EmbeddedWorker",
    "Submission",
    "cancel_job",
    "get_worker",
    "stop_worker",
    "submit_analysis",
    "submit_evaluation",
    "submit_import",
    "submit_pipeline",
    "submit_explanation",
    "submit_sweep",
    "submit_training",
    "wait_for_pipeline",
    "wait_for_sweep",
]
