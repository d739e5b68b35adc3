"""Task contracts: task names, queues, payload schemas (ids only) and enqueueing a task by name.

The gateway, the CLI and the tasks themselves enqueue work through ``enqueue(name, payload)`` without importing
any worker code (and so without torch). Distributed (``SAELAB_BROKER_URL`` set) this is Celery's ``send_task``
on the task's queue; embedded, the in-process worker registers itself as the local dispatcher
(``set_local_dispatcher``). Payloads carry ids only: configs live in the database, artifacts in the store.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

COLLECT = "saelab.collect"
TRAIN = "saelab.train"
EVALUATE = "saelab.evaluate"
ANALYSE = "saelab.analyse"
IMPORT = "saelab.import"
SWEEP = "saelab.sweep"
EXPLAIN = "saelab.explain"

QUEUES: dict[str, str] = {
    COLLECT: "collector",
    TRAIN: "trainer",
    EVALUATE: "trainer",
    ANALYSE: "analyser",
    IMPORT: "collector",
    SWEEP: "trainer",
    EXPLAIN: "analyser",  # reads the analysis and the activations, encodes with the SAE; mostly waits on HTTP
}
"""Task name -> Celery queue (the trainer queue is the GPU queue; an import reads files, like a collection)."""

KIND_TASKS: dict[str, str] = {
    "collect": COLLECT,
    "train": TRAIN,
    "evaluate": EVALUATE,
    "analyse": ANALYSE,
    "import": IMPORT,
    "sweep": SWEEP,
    "explain": EXPLAIN,
}
"""Job kind (``jobs.kind``) -> task name."""


class TaskPayload(BaseModel):
    """Base payload: the job row this delivery executes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str
    """Id of the ``jobs`` row; its status, progress and attempts are recorded there."""


class CollectPayload(TaskPayload):
    """Collect activations into a dataset."""

    dataset_id: str
    """The ``datasets`` row; its collect config comes from the job's pipeline stage."""


class TrainPayload(TaskPayload):
    """Train the SAE of a run (on its dataset)."""

    run_id: str
    """The ``runs`` row."""


class EvaluatePayload(TaskPayload):
    """Evaluate a trained run."""

    run_id: str
    """The ``runs`` row."""


class AnalysePayload(TaskPayload):
    """Analyse every feature of a trained run."""

    run_id: str
    """The ``runs`` row."""


class ImportPayload(TaskPayload):
    """Import an SAE as the weights of a run (its source is the job's pipeline stage config)."""

    run_id: str
    """The ``runs`` row the SAE becomes."""


class SweepPayload(TaskPayload):
    """Train every SAE of a sweep on one dataset (each member's run row exists; see ``pipelines.sweep_runs``)."""

    dataset_id: str
    """The ``datasets`` row; the sweep config comes from the job's pipeline stage."""


class ExplainPayload(TaskPayload):
    """Explain features of an analysed run with the configured LLM (the features come from the pipeline stage)."""

    run_id: str
    """The ``runs`` row."""


PAYLOADS: dict[str, type[TaskPayload]] = {
    COLLECT: CollectPayload,
    TRAIN: TrainPayload,
    EVALUATE: EvaluatePayload,
    ANALYSE: AnalysePayload,
    IMPORT: ImportPayload,
    SWEEP: SweepPayload,
    EXPLAIN: ExplainPayload,
}


def parse_payload(name: str, data: dict[str, Any]) -> TaskPayload:
    """Validate a delivered payload for task ``name`` (raises ValueError naming the task and the bad field)."""
    if name not in PAYLOADS:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(PAYLOADS)}")
    return PAYLOADS[name].model_validate(data)


# --------------------------------------------------------------------------------------------------------------
# Celery configuration shared by every service's app
# --------------------------------------------------------------------------------------------------------------


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings every saelab app uses: late acks, redelivery on worker loss, prefetch 1, JSON only."""
    return {
        "broker_url": settings.broker,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_routes": {name: {"queue": queue} for name, queue in QUEUES.items()},
        "task_default_queue": "default",
        "task_track_started": True,
        "task_send_sent_event": True,
        "worker_send_task_events": True,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": settings.broker_restore_interval,
            "unacked_restore_throttle": 1,
        },
        "worker_hijack_root_logger": False,
    }


# --------------------------------------------------------------------------------------------------------------
# Dispatch by name
# --------------------------------------------------------------------------------------------------------------


class Dispatcher(Protocol):
    """Sends a task by name; ``countdown`` delays its execution by that many seconds."""

    def send(self, name: str, payload: TaskPayload, countdown: float = 0.0) -> None: ...


class CeleryDispatcher:
    """Enqueue through a broker with Celery's ``send_task`` (no task code imported)."""

    def __init__(self, settings: Settings) -> None:
        from celery import Celery

        self.app = Celery("saelab-client")
        self.app.conf.update(celery_config(settings))

    def send(self, name: str, payload: TaskPayload, countdown: float = 0.0) -> None:
        if name not in QUEUES:
            raise ValueError(f"unknown task {name!r}; known: {', '.join(QUEUES)}")
        self.app.send_task(
            name,
            kwargs={"payload": payload.model_dump(mode="json")},
            queue=QUEUES[name],
            countdown=countdown or None,
            retry=True,
            retry_policy={"max_retries": 5, "interval_start": 0.5, "interval_step": 1.0, "interval_max": 5.0},
        )
        log.debug("sent %s %s", name, payload)


_local_lock = threading.Lock()
_local: Dispatcher | None = None


def set_local_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Register (or clear) the in-process worker that receives tasks when no broker is configured."""
    global _local
    with _local_lock:
        _local = dispatcher


_celery: dict[str, CeleryDispatcher] = {}


def _celery_dispatcher(settings: Settings) -> CeleryDispatcher:
    key = str(settings.broker)
    with _local_lock:
        if key not in _celery:
            _celery[key] = CeleryDispatcher(settings)
        return _celery[key]


def reset_dispatchers() -> None:
    """Forget the Celery clients built so far: the next enqueue builds one from the settings (for tests that
    switch settings within one process). The in-process worker's queue is its own: ``set_local_dispatcher``."""
    with _local_lock:
        _celery.clear()


def get_dispatcher(settings: Settings | None = None) -> Dispatcher:
    """Celery when the settings name a broker, else the registered in-process worker."""
    settings = settings or get_settings()
    if settings.broker is not None:
        return _celery_dispatcher(settings)
    with _local_lock:
        if _local is None:
            raise RuntimeError(
                "no worker to run the task: SAELAB_BROKER_URL is empty (embedded mode) and no in-process worker is "
                "running; start one with shared.jobs.embedded.EmbeddedWorker() or point SAELAB_BROKER_URL at Redis"
            )
        return _local


def report_task_lost(task_id: str, node: str, reason: str, settings: Settings | None = None) -> None:
    """Tell the event stream (Flower) that Celery task ``task_id`` of worker ``node`` was lost, as the worker would
    have had it seen its pool process die: a ``task-failed`` event with a ``WorkerLostError``. Its message is
    revoked as well, so the broker's redelivery of it (after the visibility timeout) is discarded by the worker
    that receives it (``task-revoked``, which Flower does not let override the failure) instead of running."""
    app = _celery_dispatcher(settings or get_settings()).app
    app.control.revoke(task_id)
    with app.events.default_dispatcher(hostname=node) as events:
        events.send(
            "task-failed",
            uuid=task_id,
            exception=repr(WorkerLostError(reason)),
            traceback=f"WorkerLostError: {reason}\n",
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 2.0},
        )


class WorkerLostError(Exception):
    """Named like billiard's: what a worker reports when a pool process running a task dies."""


def enqueue(
    name: str, payload: TaskPayload, countdown: float = 0.0, settings: Settings | None = None
) -> None:
    """Enqueue task ``name`` with ``payload`` on the configured transport."""
    if not isinstance(payload, PAYLOADS[name]):
        raise TypeError(f"{name}: payload must be {PAYLOADS[name].__name__}, got {type(payload).__name__}")
    get_dispatcher(settings).send(name, payload, countdown)
