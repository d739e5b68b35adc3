"""Runs: one SAE trained on a dataset (content-addressed ids), its training and evaluation records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Run, utcnow
from shared.db.repositories.common import get_or_add, get_row, rows_by_id


def get_run(session: Session, run_id: str) -> Run:
    """The run row (raises NotFound)."""
    return get_row(session, Run, run_id)


def get_or_create_run(
    session: Session, run_id: str, dataset_id: str, config: dict[str, Any], name: str = ""
) -> Run:
    """The run with this id, created (pending) with its train ``config`` when new."""
    return get_or_add(
        session,
        Run,
        run_id,
        lambda: Run(
            id=run_id,
            dataset_id=dataset_id,
            name=name,
            config=config,
            architecture=str(config.get("architecture", "")),
            d_sae=config.get("d_sae"),
            store_prefix=f"runs/{run_id}",
        ),
    )


def list_runs(
    session: Session, dataset_id: str | None = None, limit: int | None = None, offset: int = 0
) -> list[Run]:
    """Runs (of one dataset when given), newest first (ties by id); every one when ``limit`` is None."""
    stmt = select(Run).order_by(Run.created_at.desc(), Run.id)
    if dataset_id is not None:
        stmt = stmt.where(Run.dataset_id == dataset_id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.scalars(stmt))


def runs_by_id(session: Session, ids: Sequence[str]) -> list[Run | None]:
    """Run rows for these ids (one query; None where absent)."""
    return rows_by_id(session, Run, ids)


def run_exists(session: Session, run_id: str) -> bool:
    """True when the run row exists (one indexed lookup, no row loaded)."""
    return session.scalar(select(Run.id).where(Run.id == run_id)) is not None


def mark_run_trained(session: Session, run_id: str, steps_done: int) -> Run:
    """Record a finished training: steps done; status ready."""
    row = get_run(session, run_id)
    row.steps_done = steps_done
    row.status = "ready"
    row.trained_at = utcnow()
    return row


def mark_run_imported(
    session: Session, run_id: str, architecture: str, d_sae: int, sae: dict[str, Any]
) -> Run:
    """Record an imported SAE as the run's weights: its architecture and width, what it is (``config["sae"]``);
    status ready, as after training (zero steps trained here)."""
    row = get_run(session, run_id)
    row.architecture, row.d_sae = architecture, d_sae
    row.config = {**row.config, "sae": sae}
    return mark_run_trained(session, run_id, 0)


def set_run_eval(session: Session, run_id: str, result: dict[str, Any], config: dict[str, Any]) -> Run:
    """Store a run's eval card and the evaluate config that produced it."""
    row = get_run(session, run_id)
    row.eval = result
    row.evaluate_config = config
    row.evaluated_at = utcnow()
    return row
