"""Training metrics: one row per (run, step, name), upserted as steps are logged, read back as curves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import Metric


def _upsert(session: Session, model: type[Any]) -> Any:
    """An INSERT supporting ``on_conflict_do_update`` in the session's dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def upsert_metrics(session: Session, run_id: str, step: int, values: dict[str, Any]) -> int:
    """Store one logged step's metrics; (run, step, name) is unique, so re-logging a step overwrites it.

    Non-numeric and non-finite values are left out; returns the number of values stored.
    """
    rows = [
        {"run_id": run_id, "step": int(step), "name": name, "value": float(v)}
        for name, v in values.items()
        if name != "step"
        and isinstance(v, int | float)
        and not isinstance(v, bool)
        and v == v
        and abs(v) != float("inf")
    ]
    if not rows:
        return 0
    stmt = _upsert(session, Metric)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "step", "name"], set_={"value": stmt.excluded.value}
    )
    session.execute(stmt, rows)
    return len(rows)


def last_metric_step(session: Session, run_id: str) -> int | None:
    """The highest step with a stored metric of ``run_id`` (None when none is stored)."""
    return session.scalar(select(func.max(Metric.step)).where(Metric.run_id == run_id))


def metrics_of_runs(session: Session, run_ids: Sequence[str]) -> list[list[dict[str, Any]]]:
    """Each run's logged steps as ``{"step": n, name: value, ...}`` dicts, oldest first (one query)."""
    stmt = (
        select(Metric.run_id, Metric.step, Metric.name, Metric.value)
        .where(Metric.run_id.in_(set(run_ids)))
        .order_by(Metric.run_id, Metric.step)
    )
    steps: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for run_id, step, name, value in session.execute(stmt):
        steps[run_id].setdefault(step, {"step": step})[name] = value
    return [list(steps[i].values()) if i in steps else [] for i in run_ids]
