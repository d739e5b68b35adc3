"""``open_run``: what a run-stage task (train, import, evaluate, analyse) reads about its run before it starts."""

from __future__ import annotations

from dataclasses import dataclass

from shared.db.models import Run
from shared.db.repositories.runs import get_run
from shared.db.session import session_scope
from shared.jobs.lifecycle import JobContext
from shared.jobs.pipelines import stage_identity
from shared.store import get_store
from shared.store.base import ArtifactStore


@dataclass(frozen=True)
class RunAtStart:
    """The task's run as it starts: its store, its dataset, and how far it already got."""

    run_id: str
    store: ArtifactStore
    dataset_id: str
    ready: bool
    """The run's status is ``ready`` (trained or imported)."""
    done: bool
    """Evaluate / analyse: the stage already ran on this run with a config of the same identity."""


def _recorded(run: Run, stage: str) -> tuple[bool, dict | None]:
    """Whether ``stage`` finished on ``run``, and the config it finished with."""
    if stage == "evaluate":
        return run.eval is not None, run.evaluate_config
    if stage == "analyse":
        return run.analysed_at is not None, run.analyse_config
    return False, None


def open_run(ctx: JobContext, stage: str) -> RunAtStart:
    """Read the job's run in one session: dataset, ready, and (evaluate/analyse) done with ``ctx.config``."""
    run_id = ctx.payload.run_id
    store = get_store(ctx.settings)
    with session_scope() as s:
        run = get_run(s, run_id)
        finished, config = _recorded(run, stage)
        done = (
            finished
            and config is not None
            and stage_identity(stage, config) == stage_identity(stage, ctx.config)
        )
        return RunAtStart(run_id, store, run.dataset_id, run.status == "ready", done)
