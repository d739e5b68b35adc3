"""Database reads only tests make: whole ORM pages, full feature records rebuilt from rows, metric curves.

The product reads through ``shared.db.repositories`` (batched, light rows); these rebuild what was written, so the
tests can compare it with what the analyser and the trainer produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from shared.db.models import Feature, FeatureExample, FeatureLogit, FeatureNeighbour, Metric
from shared.db.repositories.features import (
    SORT_COLUMNS,
    FeatureFilter,
    FeatureSort,
    filtered,
    get_feature,
    page_order,
)
from shared.db.repositories.metrics import metrics_of_runs
from shared.features import ExampleRecord, FeatureRecord, FeatureRef, Histogram, TokenValue


def list_features(
    session: Session,
    run_id: str,
    sort: FeatureSort = "index",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
    flt: FeatureFilter | None = None,
) -> tuple[list[Feature], int]:
    """One page of a run's features in the explorer's order, and the total matching the filter."""
    if sort not in SORT_COLUMNS:
        raise ValueError(f"sort: must be one of {sorted(SORT_COLUMNS)}, got {sort!r}")
    flt = flt or FeatureFilter()
    column = SORT_COLUMNS[sort]
    # The page's indices come from the (run_id, col, feature_index) index alone; only those rows are then read.
    key_columns: list[Any] = [Feature.feature_index, column.label("sort_key")]
    ids = filtered(select(*key_columns), run_id, flt)
    page = ids.order_by(*page_order(column, descending, Feature.feature_index)).limit(limit).offset(offset)
    keys = page.subquery("page")
    rows = (
        select(Feature)
        .join(keys, and_(Feature.run_id == run_id, Feature.feature_index == keys.c.feature_index))
        .order_by(*page_order(keys.c.sort_key, descending, keys.c.feature_index))
    )
    total = session.scalar(filtered(select(func.count()).select_from(Feature), run_id, flt)) or 0
    return list(session.scalars(rows)), int(total)


def get_examples(
    session: Session, run_id: str, indices: Sequence[int], kind: str | None = None
) -> dict[int, list[ExampleRecord]]:
    """Examples of several features (one query): index -> records, top examples by rank then quantiles by bin."""
    stmt = select(FeatureExample).where(
        FeatureExample.run_id == run_id, FeatureExample.feature_index.in_(list(indices))
    )
    if kind is not None:
        stmt = stmt.where(FeatureExample.kind == kind)
    stmt = stmt.order_by(
        FeatureExample.feature_index, FeatureExample.kind.desc(), FeatureExample.bin, FeatureExample.rank
    )
    out: dict[int, list[ExampleRecord]] = {i: [] for i in indices}
    for row in session.scalars(stmt):
        out.setdefault(row.feature_index, []).append(
            ExampleRecord(
                feature=row.feature_index,
                kind=row.kind,  # type: ignore[arg-type]
                bin=row.bin,
                bin_range=None
                if row.bin_low is None or row.bin_high is None
                else (row.bin_low, row.bin_high),
                rank=row.rank,
                context=row.context,
                position=row.position,
                tokens=row.tokens,
                token_ids=row.token_ids,
                activations=row.activations,
                max_position=row.max_position,
                max_activation=row.max_activation,
            )
        )
    return out


def _ranked(
    session: Session, model: Any, run_id: str, indices: Sequence[int], **where: str
) -> dict[int, list[Any]]:
    """Rows of a per-feature child table (neighbours, logit tokens) of several features: index -> rows by rank."""
    stmt = (
        select(model)
        .where(model.run_id == run_id, model.feature_index.in_(list(indices)))
        .filter_by(**where)
        .order_by(model.feature_index, model.rank)
    )
    out: dict[int, list[Any]] = {i: [] for i in indices}
    for row in session.scalars(stmt):
        out.setdefault(row.feature_index, []).append(row)
    return out


def get_neighbours(
    session: Session, run_id: str, indices: Sequence[int], kind: str
) -> dict[int, list[FeatureRef]]:
    """Neighbours (``decoder`` or ``coactivation``) of several features: index -> refs by rank."""
    rows = _ranked(session, FeatureNeighbour, run_id, indices, kind=kind)
    return {i: [FeatureRef(index=r.neighbour_index, score=r.score) for r in refs] for i, refs in rows.items()}


def get_logit_tokens(
    session: Session, run_id: str, indices: Sequence[int], direction: str
) -> dict[int, list[TokenValue]]:
    """Logit-lens tokens (``top`` or ``bottom``) of several features: index -> tokens by rank."""
    rows = _ranked(session, FeatureLogit, run_id, indices, direction=direction)
    return {
        i: [TokenValue(token=r.token, token_id=r.token_id, value=r.value) for r in tokens]
        for i, tokens in rows.items()
    }


def feature_record(session: Session, run_id: str, index: int) -> FeatureRecord | None:
    """The full ``FeatureRecord`` of one feature, rebuilt from its rows (None when not analysed)."""
    row = get_feature(session, run_id, index)
    if row is None:
        return None
    return FeatureRecord(
        index=row.feature_index,
        n_active=row.n_active,
        density=row.density,
        log10_density=row.log10_density,
        mean_activation=row.mean_activation,
        max_activation=row.max_activation,
        dead=row.dead,
        dense=row.dense,
        histogram=Histogram.model_validate(row.histogram),
        top_tokens=[TokenValue.model_validate(t) for t in row.top_tokens],
        top_logits=get_logit_tokens(session, run_id, [index], "top")[index],
        bottom_logits=get_logit_tokens(session, run_id, [index], "bottom")[index],
        decoder_neighbours=get_neighbours(session, run_id, [index], "decoder")[index],
        coactivation_neighbours=get_neighbours(session, run_id, [index], "coactivation")[index],
        label=row.label,
        label_source=row.label_source,  # type: ignore[arg-type]
        label_description=row.label_description,
        label_score=row.label_score,
        grade=row.grade,  # type: ignore[arg-type]
        map_x=row.map_x,
        map_y=row.map_y,
    )


def get_metrics(
    session: Session, run_id: str, names: Sequence[str] | None = None
) -> dict[str, list[tuple[int, float]]]:
    """A run's training curves: metric name -> [(step, value)] in step order (from the gateway's batched read)."""
    out: dict[str, list[tuple[int, float]]] = {}
    for logged in metrics_of_runs(session, [run_id])[0]:
        for name, value in logged.items():
            if name != "step" and (names is None or name in names):
                out.setdefault(name, []).append((logged["step"], value))
    return dict(sorted(out.items()))


def count_metric_rows(session: Session, run_id: str) -> int:
    """Number of metric rows of a run."""
    return int(session.scalar(select(func.count()).select_from(Metric).where(Metric.run_id == run_id)) or 0)
