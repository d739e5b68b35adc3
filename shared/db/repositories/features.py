"""Feature reads: the explorer's pages in any sort under the one feature filter, and batched lookups by key.

Batched functions take ``(run id, feature index)`` keys and return one result per key in key order (None or an
empty list where nothing exists), from one statement per run among the keys, so the gateway's DataLoaders keep
query counts flat. The keyed lookups are prebuilt Core statements (see ``by_key``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, func, select
from sqlalchemy.orm import Session

from shared.db import models as m

FeatureKey = tuple[str, int]
"""(run id, feature index)."""

FeatureSort = Literal["index", "density", "max_activation", "label_score"]
"""The explorer's sort keys (the GraphQL ``FeatureSort`` enum carries the same values)."""

SORT_COLUMNS: dict[str, Any] = {
    "index": m.Feature.feature_index,
    "density": m.Feature.density,
    "max_activation": m.Feature.max_activation,
    "label_score": m.Feature.label_score,
}


@dataclass(frozen=True)
class FeatureFilter:
    """Explorer filters, the one definition every caller uses; None (``include_dead`` True) leaves one out."""

    grades: tuple[str, ...] | None = None
    """Keep features with one of these grades."""
    min_density: float | None = None
    """Keep features firing on at least this fraction of tokens."""
    max_density: float | None = None
    """Keep features firing on at most this fraction of tokens."""
    label_contains: str | None = None
    """Keep features whose label contains this text (case-insensitive)."""
    include_dead: bool = True
    """False leaves out features that never fired."""


def filtered(query: Select[Any], run_id: str, flt: FeatureFilter | None) -> Select[Any]:
    """``query`` restricted to the features of ``run_id`` that pass ``flt``."""
    query = query.where(m.Feature.run_id == run_id)
    if flt is None:
        return query
    if flt.grades is not None:
        query = query.where(m.Feature.grade.in_(flt.grades))
    if flt.min_density is not None:
        query = query.where(m.Feature.density >= flt.min_density)
    if flt.max_density is not None:
        query = query.where(m.Feature.density <= flt.max_density)
    if flt.label_contains:
        needle = flt.label_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(m.Feature.label).like(f"%{needle}%", escape="\\"))
    if not flt.include_dead:
        query = query.where(m.Feature.dead.is_(False))
    return query


def page_order(column: Any, descending: bool, index: Any) -> list[Any]:
    """ORDER BY of a page, ties by index; NULLS LAST only where nulls exist, so SQLite can walk the index."""
    key = column.desc() if descending else column.asc()
    return [key.nulls_last() if column.nullable else key, index.asc()]


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """The light columns of a feature (what lists show); the heavy ones are in ``FeatureExtras``."""

    run_id: str
    feature_index: int
    n_active: int
    density: float
    log10_density: float | None
    mean_activation: float
    max_activation: float
    dead: bool
    dense: bool
    label: str | None
    label_source: str
    label_score: float | None
    grade: str | None

    @classmethod
    def from_model(cls, row: m.Feature) -> FeatureRow:
        return cls(*(getattr(row, name) for name in _LIGHT))


@dataclass(frozen=True, slots=True)
class FeatureExtras:
    """The heavy columns of a feature (JSON and long text), loaded only when a query asks for them."""

    histogram: dict[str, Any]
    top_tokens: list[dict[str, Any]]
    label_description: str | None
    search_text: str


_LIGHT = [f for f in FeatureRow.__dataclass_fields__]
_LIGHT_COLUMNS = [getattr(m.Feature, name) for name in _LIGHT]


def features_page(
    session: Session,
    run_id: str,
    sort: FeatureSort,
    descending: bool,
    flt: FeatureFilter | None,
    offset: int,
    limit: int,
) -> list[FeatureRow]:
    """One page of a run's features in a stable order (ties broken by index; missing scores last).

    Still one statement: for a value sort, the page's indices come from a subquery that only touches the
    ``(run_id, col, feature_index)`` index (skipped rows are never read), then only those rows are loaded.
    """
    column = SORT_COLUMNS[sort]
    if sort == "index":  # the unique (run_id, feature_index) index already gives this order
        order = column.desc() if descending else column.asc()
        query = filtered(select(*_LIGHT_COLUMNS), run_id, flt).order_by(order).offset(offset).limit(limit)
        return [FeatureRow(*row) for row in session.execute(query)]
    keys: list[Any] = [m.Feature.feature_index, column.label("sort_key")]
    ids = filtered(select(*keys), run_id, flt)
    page = (
        ids.order_by(*page_order(column, descending, m.Feature.feature_index))
        .offset(offset)
        .limit(limit)
        .subquery("page")
    )
    query = (
        select(*_LIGHT_COLUMNS)
        .join(page, and_(m.Feature.run_id == run_id, m.Feature.feature_index == page.c.feature_index))
        .order_by(*page_order(page.c.sort_key, descending, page.c.feature_index))
    )
    return [FeatureRow(*row) for row in session.execute(query)]


def feature_order(session: Session, run_id: str, sort: FeatureSort, descending: bool) -> tuple[int, ...]:
    """Every feature index of a run in the explorer's order for ``sort`` (the order :func:`features_page` pages
    through, unfiltered): missing values last, ties by index ascending. Empty when the run has no features."""
    column = SORT_COLUMNS[sort]
    if sort == "index":
        indices = session.scalars(select(m.Feature.feature_index).where(m.Feature.run_id == run_id))
        return tuple(sorted(indices, reverse=descending))
    pairs: list[tuple[int, float | None]] = [
        (int(i), v)
        for i, v in session.execute(select(m.Feature.feature_index, column).where(m.Feature.run_id == run_id))
    ]
    present = [(i, v) for i, v in pairs if v is not None]
    missing = sorted(i for i, v in pairs if v is None)
    present.sort(key=(lambda p: (-p[1], p[0])) if descending else (lambda p: (p[1], p[0])))
    return tuple(i for i, _ in present) + tuple(missing)


def count_features(session: Session, run_id: str, flt: FeatureFilter | None) -> int:
    """How many features of the run pass ``flt``."""
    return int(session.scalar(filtered(select(func.count(m.Feature.id)), run_id, flt)) or 0)


def get_feature(session: Session, run_id: str, index: int) -> m.Feature | None:
    """One feature row (ORM, for writes), or None."""
    return session.scalar(
        select(m.Feature).where(m.Feature.run_id == run_id, m.Feature.feature_index == index)
    )


def feature_stats_of_runs(session: Session, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Per run: feature count, distinct grades, and every feature's log10 density (None for dead ones)."""
    query = select(m.Feature.run_id, m.Feature.grade, m.Feature.log10_density).where(
        m.Feature.run_id.in_(set(run_ids))
    )
    stats: dict[str, dict[str, Any]] = {i: {"count": 0, "grades": set(), "log10": []} for i in run_ids}
    for run_id, grade, log10 in session.execute(query):
        entry = stats[run_id]
        entry["count"] += 1
        if grade:
            entry["grades"].add(grade)
        entry["log10"].append(log10)
    return [stats[i] for i in run_ids]


Keyed = tuple[Select[Any], Select[Any]]
"""A keyed lookup prebuilt twice: for one index (``feature_index = :index``) and for several (expanding IN)."""


def keyed(session: Session, statements: Keyed, keys: Sequence[FeatureKey]) -> Iterator[Any]:
    """Rows of a prebuilt keyed lookup for ``keys``: one execution per run among the keys (a request's keys are
    nearly always of one run, so one statement)."""
    by_run: dict[str, set[int]] = defaultdict(set)
    for run_id, index in keys:
        by_run[run_id].add(index)
    one, many = statements
    for run_id, indices in by_run.items():
        # one index (a feature detail): no IN-list expansion at execution
        if len(indices) == 1:
            yield from session.execute(one, {"run_id": run_id, "index": next(iter(indices))})
        else:
            yield from session.execute(many, {"run_id": run_id, "indices": sorted(indices)})


def by_key(
    table: Table,
    *columns: ColumnElement[Any],
    order_by: Sequence[ColumnElement[Any]] = (),
    join: tuple[Any, ColumnElement[bool]] | None = None,
) -> Keyed:
    """``SELECT run_id, feature_index, *columns FROM table [LEFT JOIN ...] WHERE run_id = :run_id AND
    feature_index = :index`` (and ``IN :indices``), ordered by ``order_by``.

    Built once at import from the tables (Core, not ORM entities): executing it skips statement construction and
    the ORM's compile layer, which cost more than the SQL itself for a feature detail's small lookups."""
    base = select(table.c.run_id, table.c.feature_index, *columns)
    if join is not None:
        base = base.select_from(table).outerjoin(*join)
    base = base.where(table.c.run_id == bindparam("run_id")).order_by(*order_by)
    return (
        base.where(table.c.feature_index == bindparam("index")),
        base.where(table.c.feature_index.in_(bindparam("indices", expanding=True))),
    )


FEATURES: Table = m.Feature.__table__  # type: ignore[assignment]
_FEATURES_BY_KEY = by_key(FEATURES, *(FEATURES.c[name] for name in _LIGHT[2:]))
_EXTRAS_BY_KEY = by_key(FEATURES, *(FEATURES.c[name] for name in FeatureExtras.__dataclass_fields__))


def features_by_key(session: Session, keys: Sequence[FeatureKey]) -> list[FeatureRow | None]:
    """The light columns of these features (None where not analysed)."""
    rows = {(row[0], row[1]): FeatureRow(*row) for row in keyed(session, _FEATURES_BY_KEY, keys)}
    return [rows.get(k) for k in keys]


def extras_by_key(session: Session, keys: Sequence[FeatureKey]) -> list[FeatureExtras | None]:
    """The heavy columns of these features (None where not analysed)."""
    rows = {(row[0], row[1]): FeatureExtras(*row[2:]) for row in keyed(session, _EXTRAS_BY_KEY, keys)}
    return [rows.get(k) for k in keys]


@dataclass(frozen=True, slots=True)
class ExampleRow:
    """A context window of a feature: tokens, the feature's activation on each, the centre token."""

    kind: str
    bin: int | None
    tokens: list[str]
    activations: list[float]
    max_position: int
    max_activation: float


@dataclass(frozen=True)
class NeighbourRow:
    """A neighbour reference with its label (joined in the same query)."""

    index: int
    score: float
    label: str | None


@dataclass(frozen=True, slots=True)
class LogitRow:
    token: str
    value: float


def _grouped(
    rows: Any, keys: Sequence[FeatureKey], kinds: tuple[str, str], make: Any
) -> list[dict[str, list[Any]]]:
    """Rows ``(run_id, feature_index, kind, *fields)`` grouped per key and kind, in query order."""
    grouped: dict[FeatureKey, dict[str, list[Any]]] = {}
    for run_id, index, kind, *fields in rows:
        entry = grouped.setdefault((run_id, index), {kinds[0]: [], kinds[1]: []})
        entry.setdefault(kind, []).append(make(kind, *fields))
    return [grouped.get(k, {kinds[0]: [], kinds[1]: []}) for k in keys]


_EXAMPLES: Table = m.FeatureExample.__table__  # type: ignore[assignment]
_EXAMPLES_BY_KEY = by_key(
    _EXAMPLES,
    *(
        _EXAMPLES.c[name]
        for name in ("kind", "bin", "tokens", "activations", "max_position", "max_activation")
    ),
    order_by=(_EXAMPLES.c.bin, _EXAMPLES.c.rank),
)
_NEIGHBOURS: Table = m.FeatureNeighbour.__table__  # type: ignore[assignment]
_OTHER = FEATURES.alias("other")
_NEIGHBOURS_BY_KEY = by_key(
    _NEIGHBOURS,
    _NEIGHBOURS.c.kind,
    _NEIGHBOURS.c.neighbour_index,
    _NEIGHBOURS.c.score,
    _OTHER.c.label,
    order_by=(_NEIGHBOURS.c.rank,),
    join=(
        _OTHER,
        and_(
            _OTHER.c.run_id == _NEIGHBOURS.c.run_id, _OTHER.c.feature_index == _NEIGHBOURS.c.neighbour_index
        ),
    ),
)
_LOGITS: Table = m.FeatureLogit.__table__  # type: ignore[assignment]
_LOGITS_BY_KEY = by_key(
    _LOGITS, _LOGITS.c.direction, _LOGITS.c.token, _LOGITS.c.value, order_by=(_LOGITS.c.rank,)
)


def examples_by_key(session: Session, keys: Sequence[FeatureKey]) -> list[dict[str, list[ExampleRow]]]:
    """Per feature: ``{"top": [...], "quantile": [...]}`` (top by rank; quantile by bin, then rank)."""
    return _grouped(keyed(session, _EXAMPLES_BY_KEY, keys), keys, ("top", "quantile"), ExampleRow)


def neighbours_by_key(session: Session, keys: Sequence[FeatureKey]) -> list[dict[str, list[NeighbourRow]]]:
    """Per feature: ``{"decoder": [...], "coactivation": [...]}`` by rank, each with the neighbour's label."""
    rows = keyed(session, _NEIGHBOURS_BY_KEY, keys)
    return _grouped(rows, keys, ("decoder", "coactivation"), lambda _kind, *f: NeighbourRow(*f))


def logits_by_key(session: Session, keys: Sequence[FeatureKey]) -> list[dict[str, list[LogitRow]]]:
    """Per feature: ``{"top": [...], "bottom": [...]}`` logit-lens tokens by rank."""
    rows = keyed(session, _LOGITS_BY_KEY, keys)
    return _grouped(rows, keys, ("top", "bottom"), lambda _kind, *f: LogitRow(*f))


@dataclass(frozen=True, slots=True)
class MapPoint:
    """A feature's place on the run's 2-D dictionary map, with what the map colours it by."""

    index: int
    x: float
    y: float
    density: float
    dead: bool
    dense: bool
    label: str | None


def feature_map(session: Session, run_id: str) -> list[MapPoint]:
    """Every mapped feature of ``run_id`` (an analysis with the map off gives none), by index."""
    f = m.Feature
    rows = session.execute(
        select(f.feature_index, f.map_x, f.map_y, f.density, f.dead, f.dense, f.label)
        .where(f.run_id == run_id, f.map_x.is_not(None), f.map_y.is_not(None))
        .order_by(f.feature_index)
    )
    return [
        MapPoint(i, x, y, density, dead, dense, label)
        for i, x, y, density, dead, dense, label in rows
        if x is not None and y is not None  # the WHERE clause already ensures it; this tells the type checker
    ]
