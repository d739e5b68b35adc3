"""The Celery side of the job system: a service's Celery app, its worker signals, and the body of every task.

``make_celery_app`` gives each service (collector, trainer, analyser) an app with the shared configuration
(``contracts.celery_config``) and connects, once per process, the worker hooks: refuse to start without a broker,
import the heavy libraries before reporting ready, never share pooled database connections across a fork, log the
job lines at INFO whatever the worker's level, and run the reaper beside each worker. A worker started without
``-n`` gets a node name of its own (``<service>-<pid>@<host>``), so several on one host never collide. ``run_delivery`` is what every Celery task calls: one ``execute_job`` per delivery.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from typing import Any

from shared.db.session import dispose_engines
from shared.jobs.contracts import celery_config
from shared.jobs.errors import backoff, is_transient
from shared.jobs.lifecycle import execute_job
from shared.jobs.reaper import Reaper
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)
_signals_connected = False
JOB_LOGGERS = ("shared.jobs", "services")
"""Loggers whose INFO lines (one per task start and end, the reaper's moves) a worker always shows."""


def make_celery_app(
    main: str, include: list[str], preload: list[str] | None = None, settings: Settings | None = None
) -> Any:
    """A service's Celery app: shared config, its task modules, and worker hooks (broker check, reaper).

    ``preload`` names the heavy library modules (torch, transformers) a worker imports before it reports ready,
    so the first task does not pay for them and a broken install fails at start, not mid-pipeline.
    """
    from celery import Celery

    settings = settings or get_settings()
    app = Celery(main, include=include)
    app.conf.update(celery_config(settings))
    app.conf.saelab_preload = list(preload or [])
    _unique_node_names(app, main.removeprefix("saelab-"))
    _connect_worker_signals()
    return app


def unique_nodename(hostname: str | None, service: str, pid: int | None = None) -> str:
    """The worker's node name: as given with ``-n``, else ``<service>-<pid>@<host>`` instead of Celery's
    ``celery@<host>`` (which every worker on a host shares, so Flower and ``inspect`` see only one)."""
    host = socket.gethostname()
    if hostname and hostname != f"celery@{host}":
        return hostname
    return f"{service}-{pid or os.getpid()}@{host}"


def _unique_node_names(app: Any, service: str) -> None:
    base = app.Worker

    class Worker(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, hostname: str | None = None, **kwargs: Any) -> None:
            super().__init__(*args, hostname=unique_nodename(hostname, service), **kwargs)

    app.Worker = Worker


def _connect_worker_signals() -> None:
    """Once per process: refuse to start a worker without a broker; run the reaper beside each worker."""
    global _signals_connected
    if _signals_connected:
        return
    from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown

    state: dict[str, Any] = {}

    def on_init(sender: Any = None, **_: Any) -> None:
        if get_settings().broker is None:
            raise RuntimeError(
                "SAELAB_BROKER_URL is empty: a Celery worker needs a broker (e.g. redis://localhost:6379/0); "
                "without one, run the embedded worker instead (saelab up)"
            )
        for module in getattr(getattr(sender, "app", None), "conf", {}).get("saelab_preload", []):
            importlib.import_module(module)
        _show_job_lines()  # before the pool forks its processes, which run the tasks

    def on_process_init(**_: Any) -> None:
        dispose_engines()  # never share pooled connections across a fork
        _show_job_lines()

    def on_ready(sender: Any = None, **_: Any) -> None:
        _show_job_lines()
        settings = get_settings()
        state["reaper"] = Reaper(settings).start()
        log.info(
            "worker %s ready: heartbeat every %gs, a job is lost after %gs, reaper sweep every %gs",
            getattr(sender, "hostname", "?"),
            settings.heartbeat_interval,
            settings.heartbeat_timeout,
            state["reaper"].interval,
        )

    def on_shutdown(**_: Any) -> None:
        if "reaper" in state:
            state.pop("reaper").stop()

    worker_init.connect(on_init, weak=False)
    worker_process_init.connect(on_process_init, weak=False)
    worker_ready.connect(on_ready, weak=False)
    worker_shutdown.connect(on_shutdown, weak=False)
    _signals_connected = True


def _show_job_lines() -> None:
    """Celery's default level is WARNING: the job lines (INFO) of saelab's loggers must still show."""
    for name in JOB_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def run_delivery(task: Any, name: str, payload: dict[str, Any], body: Any) -> str:
    """The body of every Celery task: execute the job once and return how the delivery ended."""
    worker = f"{task.request.hostname or 'celery'}/{os.getpid()}"
    try:
        return execute_job(name, payload, body, worker=worker, task_id=task.request.id).status
    except Exception as exc:  # the job row itself could not be read or written (database down, ...)
        if not is_transient(exc):
            raise
        settings = get_settings()
        raise task.retry(
            exc=exc, countdown=backoff(task.request.retries + 1, settings), max_retries=None
        ) from exc
