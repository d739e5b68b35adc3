"""Datasets: activation sets collected from a model's hook over a corpus (content-addressed ids)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Dataset, utcnow
from shared.db.repositories.common import get_or_add, get_row, rows_by_id


def get_dataset(session: Session, dataset_id: str) -> Dataset:
    """The dataset row (raises NotFound)."""
    return get_row(session, Dataset, dataset_id)


def get_or_create_dataset(
    session: Session, dataset_id: str, config: dict[str, Any], name: str = ""
) -> Dataset:
    """The dataset with this id, created (pending) with ``config`` when new."""
    return get_or_add(
        session,
        Dataset,
        dataset_id,
        lambda: Dataset(
            id=dataset_id,
            name=name,
            config=config,
            model=str(config.get("model", "")),
            hook=str(config.get("hook", "")),
            store_prefix=f"datasets/{dataset_id}",
        ),
    )


def set_dataset_config(session: Session, dataset_id: str, config: dict[str, Any]) -> Dataset:
    """Replace a pending dataset's collect config (and the model and hook shown for it)."""
    row = get_dataset(session, dataset_id)
    row.config = dict(config)
    row.model, row.hook = str(config.get("model", "")), str(config.get("hook", ""))
    return row


def list_datasets(session: Session, limit: int | None = None, offset: int = 0) -> list[Dataset]:
    """Datasets, newest first (ties by id); every one when ``limit`` is None."""
    stmt = select(Dataset).order_by(Dataset.created_at.desc(), Dataset.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.scalars(stmt))


def datasets_by_id(session: Session, ids: Sequence[str]) -> list[Dataset | None]:
    """Dataset rows for these ids (one query; None where absent)."""
    return rows_by_id(session, Dataset, ids)


def mark_dataset_ready(session: Session, dataset_id: str, meta: dict[str, Any]) -> Dataset:
    """Record a collected dataset: its meta.json, width and token count; status ready."""
    row = get_dataset(session, dataset_id)
    row.meta = meta
    row.d_in = meta.get("d_in")
    n_contexts, context_length = meta.get("n_contexts"), meta.get("context_length")
    row.n_tokens = n_contexts * context_length if n_contexts and context_length else None
    row.status = "ready"
    row.ready_at = utcnow()
    return row
