"""GraphQL domain ``features``: the explorer page, feature detail, search, token index, neighbours, relabelling.

The types are in ``services.gateway.feature_types``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from services.gateway.auth import TokenRequired, read_field
from services.gateway.common import SortOrder, ctx, loaders, require_run
from services.gateway.errors import BadInput, NotFound
from services.gateway.feature_types import (
    Feature,
    FeatureConnection,
    FeatureFilter,
    FeatureRef,
    FeatureSort,
    MapPoint,
    PageInfo,
    SearchHit,
    SimilarityKind,
    search_hit,
)
from services.gateway.limits import check_page_size, check_unicode
from shared.db.repositories.features import (
    FeatureFilter as RowFilter,
)
from shared.db.repositories.features import (
    FeatureRow,
    count_features,
    extras_by_key,
    feature_map,
    feature_order,
    features_by_key,
    features_page,
)
from shared.db.repositories.features import (
    FeatureSort as SortKey,
)
from shared.db.repositories.labels import relabel_feature
from shared.db.repositories.runs import run_exists
from shared.db.repositories.search import search_features, token_features
from shared.search import terms

MAX_LABEL_CHARS = 200
MAX_QUERY_CHARS = 200


# --------------------------------------------------------------------------------------------------------------
# Cursors
# --------------------------------------------------------------------------------------------------------------


MAX_CURSOR_OFFSET = 2**31 - 1
"""Largest offset a cursor may carry (a run has far fewer features; SQLite's integers end at 2^63)."""


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset an ``endCursor`` points at; BAD_INPUT for anything this server did not hand out."""
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit() and len(value) <= len(str(MAX_CURSOR_OFFSET)):
            offset = int(value)
            if offset <= MAX_CURSOR_OFFSET:
                return offset
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BadInput("after: not a cursor returned by this API (use pageInfo.endCursor)", field="after")


def _page_window(first: int, after: str | None, page: int | None) -> tuple[int, int | None]:
    """(offset, page number) for cursor or page pagination."""
    if after is not None and page is not None:
        raise BadInput("page: pass either `page` or `after`, not both", field="page")
    if page is not None:
        if page < 1:
            raise BadInput(f"page: pages are numbered from 1 (got {page})", field="page")
        return (page - 1) * first, page
    if after is not None:
        return decode_cursor(after) + 1, None
    return 0, 1


# --------------------------------------------------------------------------------------------------------------
# Root fields
# --------------------------------------------------------------------------------------------------------------


async def require_feature(info: Info, run_id: str, index: int) -> FeatureRow:
    row = await loaders(info).features.load((run_id, index))
    if row is None:
        await require_run(info, run_id)
        raise NotFound(
            f"feature {index} of run {run_id!r} not found (not analysed, or out of range)", index=index
        )
    return row


@strawberry.type
class FeatureQueries:
    @read_field(
        "A page of a run's features: `page` (1-based) or `after` (an endCursor), sorted and filtered."
    )
    async def features(
        self,
        info: Info,
        run_id: strawberry.ID,
        first: int = 50,
        after: str | None = None,
        page: int | None = None,
        sort: FeatureSort = FeatureSort.INDEX,
        order: SortOrder = SortOrder.ASC,
        filter: FeatureFilter | None = None,
    ) -> FeatureConnection | None:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        offset, page_number = _page_window(first, after, page)
        flt = filter.to_data() if filter is not None else None
        descending = order == SortOrder.DESC
        rows, total = await _page_rows(info, _Page(str(run_id), sort.value, descending, flt, offset, first))
        for row in rows:  # the page primes the feature loader: nested fields reuse these rows
            loaders(info).features.prime((row.run_id, row.feature_index), row)
        return FeatureConnection(
            total_count=total,
            page=page_number,
            page_size=first,
            nodes=[Feature.from_row(row) for row in rows],
            page_info=PageInfo(
                has_next_page=offset + len(rows) < total,
                has_previous_page=offset > 0,
                start_cursor=encode_cursor(offset) if rows else None,
                end_cursor=encode_cursor(offset + len(rows) - 1) if rows else None,
            ),
        )

    @read_field("One feature of a run; null when absent.")
    async def feature(self, info: Info, run_id: strawberry.ID, index: int) -> Feature | None:
        row = await loaders(info).features.load((str(run_id), index))
        if row is None:
            await require_run(info, str(run_id))
            return None
        return Feature.from_row(row)

    @read_field('Features responding most to a token (e.g. " cat"), strongest first.')
    async def token_features(
        self, info: Info, run_id: strawberry.ID, token: str, first: int = 20
    ) -> list[FeatureRef] | None:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        if not token:
            raise BadInput("token: empty", field="token")
        check_unicode(token, "token")
        await require_run(info, str(run_id))
        entry = await loaders(info).query(token_features, str(run_id), token, first)
        if entry is None:
            return []
        keys = [(str(run_id), f.index) for f in entry.features]
        labels = await loaders(info).labels.load_many(keys)
        return [
            FeatureRef(index=f.index, label=label, score=f.mean_activation)
            for f, label in zip(entry.features, labels, strict=True)
        ]

    @read_field("Keyword search over labels, tokens and example text of a run's features, best first.")
    async def search(
        self, info: Info, run_id: strawberry.ID, query: str, first: int = 20
    ) -> list[SearchHit] | None:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        if len(query) > MAX_QUERY_CHARS:
            raise BadInput(f"query: at most {MAX_QUERY_CHARS} characters (got {len(query)})", field="query")
        check_unicode(query, "query")
        return await loaders(info).query(_search, str(run_id), query, first)

    @read_field(
        "Every feature's place on the run's 2-D map of decoder directions (UMAP-style, computed by the"
        " analysis); empty when the analysis made no map.",
    )
    async def feature_map(self, info: Info, run_id: strawberry.ID) -> list[MapPoint] | None:
        return await loaders(info).query(_feature_map, str(run_id))

    @read_field("A feature's nearest neighbours.")
    async def similar_features(
        self,
        info: Info,
        run_id: strawberry.ID,
        index: int,
        by: SimilarityKind = SimilarityKind.DECODER,
        first: int = 10,
    ) -> list[FeatureRef] | None:
        row = await require_feature(info, str(run_id), index)
        return await Feature.from_row(row)._neighbours(info, by, first)


@dataclass(frozen=True)
class _Page:
    """An explorer page asked for: the run, its order and filter, and the window of rows."""

    run_id: str
    sort: SortKey
    descending: bool
    flt: RowFilter | None
    offset: int
    limit: int


async def _page_rows(info: Info, p: _Page) -> tuple[list[FeatureRow], int]:
    """(rows, total) of an explorer page: unfiltered pages slice the run's cached order (filled on first use),
    filtered ones (or with the response cache off) run the ORDER BY / COUNT in the database."""
    memos = ctx(info).state.memos
    if p.flt is not None or not memos.enabled:
        return await loaders(info).query(_page_and_count, p)
    key = ("order", p.run_id, p.sort, p.descending)
    order: tuple[int, ...] | None = memos.get(key)
    if order is None:
        order = await loaders(info).query(feature_order, p.run_id, p.sort, p.descending)
        if not order:  # no features: an unknown run is an error, an unanalysed one an empty list
            await require_run(info, p.run_id)
            return [], 0
        memos.put(key, order)
    keys = [(p.run_id, index) for index in order[p.offset : p.offset + p.limit]]
    found = await loaders(info).query(features_by_key, keys) if keys else []
    rows = [row for row in found if row is not None]
    return rows, len(order)


def _page_and_count(session: Session, p: _Page) -> tuple[list[FeatureRow], int]:
    """The page and the filtered total; a page that ends the list gives the total without a COUNT query.

    One worker-thread hop for the whole field; the run's existence is only checked when the page is empty."""
    rows = features_page(session, p.run_id, p.sort, p.descending, p.flt, p.offset, p.limit)
    if not rows:
        _check_run(session, p.run_id)
    if 0 < len(rows) < p.limit or (p.offset == 0 and not rows):
        return rows, p.offset + len(rows)
    return rows, count_features(session, p.run_id, p.flt)


def _check_run(session: Session, run_id: str) -> None:
    if not run_exists(session, run_id):
        raise NotFound(f"run {run_id!r} not found", runId=run_id)


def _feature_map(session: Session, run_id: str) -> list[MapPoint]:
    points = feature_map(session, run_id)
    if not points:
        _check_run(session, run_id)
    return [
        MapPoint(index=p.index, x=p.x, y=p.y, density=p.density, dead=p.dead, dense=p.dense, label=p.label)
        for p in points
    ]


def _search(session: Session, run_id: str, query: str, first: int) -> list[SearchHit]:
    """Full-text search, then the hits' rows: one worker-thread hop, three statements."""
    scored = search_features(session, run_id, query, first)
    if not scored:
        _check_run(session, run_id)
        return []
    keys = [(run_id, index) for index, _ in scored]
    rows = features_by_key(session, keys)
    extras = extras_by_key(session, keys)
    words = terms(query)
    return [
        search_hit(row, extra, score, words)
        for row, extra, (_, score) in zip(rows, extras, scored, strict=True)
        if row is not None
    ]


@strawberry.type
class FeatureMutations:
    @strawberry.mutation(permission_classes=[TokenRequired], description="Set a human label on a feature.")
    async def relabel_feature(
        self, info: Info, run_id: strawberry.ID, index: int, label: str
    ) -> Feature | None:
        text = " ".join(label.split())
        if not text:
            raise BadInput("label: empty", field="label")
        if len(text) > MAX_LABEL_CHARS:
            raise BadInput(f"label: at most {MAX_LABEL_CHARS} characters (got {len(text)})", field="label")
        check_unicode(text, "label")
        await require_feature(info, str(run_id), index)
        row = await loaders(info).query(_relabel, str(run_id), index, text)
        ctx(info).state.analysis_changed()
        return Feature.from_row(row)


def _relabel(session: Session, run_id: str, index: int, label: str) -> FeatureRow:
    row = FeatureRow.from_model(relabel_feature(session, run_id, index, label))
    session.commit()
    return row
