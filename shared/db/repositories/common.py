"""What every repository module shares: the NotFound error, a get-or-raise and a get-or-add by primary key, batching
of rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")

BATCH = 2000
"""Rows per INSERT statement in bulk writes."""


class NotFound(LookupError):
    """A row that should exist does not (the message names the table and id)."""


def get_row(session: Session, model: type[Any], key: Any) -> Any:
    """The row of ``model`` with primary key ``key``, re-read from the database (raises NotFound)."""
    row = session.get(model, key, populate_existing=True)  # conditional UPDATEs bypass the identity map
    if row is None:
        raise NotFound(f"{model.__tablename__}: no row with id {key!r}")
    return row


def get_or_add(session: Session, model: type[T], key: str, new: Callable[[], T]) -> T:
    """The row of ``model`` with primary key ``key``, or ``new()`` added in a savepoint when there is none; when a
    concurrent writer inserts the same key first, theirs."""
    row = session.get(model, key)
    if row is None:
        row = new()
        try:
            with session.begin_nested():  # a concurrent submission may insert the same id first
                session.add(row)
        except IntegrityError:
            row = session.get(model, key)
            if row is None:
                raise
    return row


def rows_by_id(session: Session, model: Any, ids: Sequence[str]) -> list[Any]:
    """Rows of ``model`` for these ids in one query, in the order of ``ids`` (None where absent)."""
    rows = {row.id: row for row in session.scalars(select(model).where(model.id.in_(set(ids))))}
    return [rows.get(i) for i in ids]


def batched(items: Iterable[T], size: int = BATCH) -> Iterable[list[T]]:
    """``items`` in lists of at most ``size``."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_all(session: Session, model: type[Any], rows: Iterable[dict[str, Any]]) -> int:
    """Bulk-insert ``rows`` into ``model``'s table in batches; returns how many."""
    n = 0
    for batch in batched(rows):
        session.execute(insert(model), batch)
        n += len(batch)
    return n
