"""GraphQL domain ``features``: the explorer page, feature detail, search, token index, neighbours, relabelling."""

from __future__ import annotations

import base64
import binascii
import enum

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from services.gateway.auth import ReadAccess, TokenRequired
from services.gateway.common import Histogram, SortOrder, ctx, finite, loaders
from services.gateway.errors import BadInput, NotFound
from services.gateway.limits import check_page_size
from services.gateway.runs import require_run
from shared.db.repositories.features import (
    ExampleRow,
    FeatureExtras,
    FeatureKey,
    FeatureRow,
    NeighbourRow,
    count_features,
    extras_by_key,
    feature_order,
    features_by_key,
    features_page,
)
from shared.db.repositories.features import (
    FeatureFilter as RowFilter,
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


@strawberry.enum
class FeatureSort(enum.Enum):
    INDEX = "index"
    DENSITY = "density"
    MAX_ACTIVATION = "max_activation"
    LABEL_SCORE = "label_score"


@strawberry.enum
class SimilarityKind(enum.Enum):
    DECODER = "decoder"
    COACTIVATION = "coactivation"


@strawberry.enum
class SearchField(enum.Enum):
    LABEL = "label"
    TOKEN = "token"
    EXAMPLE = "example"


# --------------------------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------------------------


@strawberry.type(
    description="A context window around one activation: tokens and this feature's activation on each."
)
class Example:
    tokens: list[str]
    activations: list[float]
    max_position: int = strawberry.field(description="Index into tokens of the highest activation.")
    max_activation: float
    quantile: int | None = strawberry.field(
        description="For quantile samples: which activation-range bin (0 = lowest); null for top examples."
    )

    @classmethod
    def from_row(cls, row: ExampleRow) -> Example:
        return cls(
            tokens=list(row.tokens),
            activations=[float(a) for a in row.activations],
            max_position=row.max_position,
            max_activation=float(row.max_activation),
            quantile=row.bin if row.kind == "quantile" else None,
        )


@strawberry.type
class TokenValue:
    token: str
    value: float


@strawberry.type
class LogitLens:
    top: list[TokenValue]
    bottom: list[TokenValue]


@strawberry.type(
    description="A reference to another feature with a score (cosine, co-activation, relevance)."
)
class FeatureRef:
    index: int
    label: str | None
    score: float

    @classmethod
    def from_row(cls, row: NeighbourRow) -> FeatureRef:
        return cls(index=row.index, label=row.label, score=float(row.score))


@strawberry.type
class Feature:
    run_id: strawberry.ID
    index: int
    label: str | None
    label_source: str | None = strawberry.field(description="Where the label came from: auto | human.")
    grade: str | None = strawberry.field(
        description="High | Medium | Low monosemanticity grade; null when unknown."
    )
    label_score: float | None = strawberry.field(
        description="How well the label predicts firing on held-out tokens (F1 in [0, 1])."
    )
    density: float = strawberry.field(description="Fraction of analysed tokens on which the feature fired.")
    log10_density: float | None = strawberry.field(description="log10(density); null for a dead feature.")
    n_active: int = strawberry.field(description="Analysed tokens on which the feature fired.")
    dead: bool
    dense: bool
    mean_activation: float = strawberry.field(description="Mean activation over the tokens where it fired.")
    max_activation: float

    @classmethod
    def from_row(cls, row: FeatureRow) -> Feature:
        return cls(
            run_id=strawberry.ID(row.run_id),
            index=row.feature_index,
            label=row.label,
            label_source=row.label_source,
            grade=row.grade,
            label_score=finite(row.label_score),
            density=float(row.density),
            log10_density=finite(row.log10_density),
            n_active=row.n_active,
            dead=row.dead,
            dense=row.dense,
            mean_activation=float(row.mean_activation),
            max_activation=float(row.max_activation),
        )

    @strawberry.field(description="Longer explanation of the auto label (tokens it fires on and promotes).")
    async def label_description(self, info: Info) -> str | None:
        extras = await loaders(info).extras.load(self._key)
        return None if extras is None else extras.label_description

    @strawberry.field(
        description="Log-spaced histogram of the nonzero activations; zeroFraction = 1 - density."
    )
    async def histogram(self, info: Info) -> Histogram | None:
        extras = await loaders(info).extras.load(self._key)
        return None if extras is None else Histogram.from_dict(extras.histogram)

    @strawberry.field(description="Tokens it fires on most (value = share of its firings on that token).")
    async def top_tokens(self, info: Info) -> list[TokenValue]:
        extras = await loaders(info).extras.load(self._key)
        tokens = [] if extras is None else extras.top_tokens or []
        return [TokenValue(token=t["token"], value=float(t["value"])) for t in tokens]

    @strawberry.field(description="Highest-activating contexts, highest first.")
    async def top_examples(self, info: Info, first: int = 20) -> list[Example]:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        examples = await loaders(info).examples.load(self._key)
        return [Example.from_row(row) for row in examples["top"][:first]]

    @strawberry.field(description="Random samples from each activation-range bin, lowest bin first.")
    async def quantile_samples(self, info: Info) -> list[Example]:
        examples = await loaders(info).examples.load(self._key)
        return [Example.from_row(row) for row in examples["quantile"]]

    @strawberry.field(
        description="Output tokens the decoder direction raises (top) and lowers (bottom) most."
    )
    async def logit_lens(self, info: Info) -> LogitLens | None:
        logits = await loaders(info).logits.load(self._key)
        if not logits["top"] and not logits["bottom"]:
            return None
        return LogitLens(
            top=[TokenValue(token=r.token, value=float(r.value)) for r in logits["top"]],
            bottom=[TokenValue(token=r.token, value=float(r.value)) for r in logits["bottom"]],
        )

    @strawberry.field(description="Most similar decoder directions (score = cosine), highest first.")
    async def decoder_neighbours(self, info: Info, first: int = 10) -> list[FeatureRef]:
        return await self._neighbours(info, SimilarityKind.DECODER, first)

    @strawberry.field(
        description="Features firing on the same tokens (score = Jaccard index), highest first."
    )
    async def coactivation_neighbours(self, info: Info, first: int = 10) -> list[FeatureRef]:
        return await self._neighbours(info, SimilarityKind.COACTIVATION, first)

    async def _neighbours(self, info: Info, kind: SimilarityKind, first: int) -> list[FeatureRef]:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        rows = (await loaders(info).neighbours.load(self._key))[kind.value]
        return [FeatureRef.from_row(row) for row in rows[:first]]

    @property
    def _key(self) -> FeatureKey:
        return (str(self.run_id), self.index)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class FeatureConnection:
    total_count: int
    page: int | None = strawberry.field(
        description="1-based page number when paginating by page (null with cursors)."
    )
    page_size: int
    nodes: list[Feature]
    page_info: PageInfo


@strawberry.input
class FeatureFilter:
    grades: list[str] | None = strawberry.field(
        default=None, description="Keep features with one of these grades."
    )
    min_density: float | None = None
    max_density: float | None = None
    label_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive label substring."
    )

    def to_data(self) -> RowFilter:
        for name in ("min_density", "max_density"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise BadInput(f"filter.{_camel(name)}: a density is a fraction in [0, 1] (got {value})")
        return RowFilter(
            grades=tuple(self.grades) if self.grades is not None else None,
            min_density=self.min_density,
            max_density=self.max_density,
            label_contains=(self.label_contains or "").strip() or None,
        )


@strawberry.type
class SearchHit:
    index: int
    label: str | None
    grade: str | None
    density: float
    score: float
    field: SearchField = strawberry.field(description="Where the best match was found.")
    snippet: str = strawberry.field(
        description="Context around the match (label text, token, or example text)."
    )


def search_hit(row: FeatureRow, extras: FeatureExtras | None, score: float, words: list[str]) -> SearchHit:
    """A hit with the field the query matched best in (label, then tokens, then example text) and a snippet."""
    field, snippet = _match(row, extras, words)
    return SearchHit(
        index=row.feature_index,
        label=row.label,
        grade=row.grade,
        density=float(row.density),
        score=score,
        field=field,
        snippet=snippet,
    )


def _match(row: FeatureRow, extras: FeatureExtras | None, words: list[str]) -> tuple[SearchField, str]:
    def hits(text: str) -> bool:
        return any(t.startswith(w) for t in terms(text) for w in words)

    if row.label and hits(row.label):
        return SearchField.LABEL, row.label
    tokens = [str(t.get("token", "")).strip() for t in (extras.top_tokens if extras else [])]
    matching = [t for t in dict.fromkeys(tokens) if t and hits(t)]
    if matching:
        return SearchField.TOKEN, " ".join(matching)
    return SearchField.EXAMPLE, _snippet(extras.search_text if extras else "", words)


def _snippet(text: str, words: list[str], width: int = 40) -> str:
    """Text around the first occurrence of any query word."""
    lower = text.lower()
    found = [i for i in (lower.find(w) for w in words) if i >= 0]
    if not found:
        return text[: 2 * width]
    lo, hi = max(0, min(found) - width), min(len(text), min(found) + width)
    return ("…" if lo else "") + text[lo:hi].replace("\n", " ") + ("…" if hi < len(text) else "")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# --------------------------------------------------------------------------------------------------------------
# Cursors
# --------------------------------------------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset an ``endCursor`` points at; BAD_INPUT for anything this server did not hand out."""
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
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
    @strawberry.field(
        permission_classes=[ReadAccess],
        description="A page of a run's features: `page` (1-based) or `after` (an endCursor), sorted and filtered.",
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
    ) -> FeatureConnection:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        offset, page_number = _page_window(first, after, page)
        flt = filter.to_data() if filter is not None else None
        descending = order == SortOrder.DESC
        rows, total = await _page_rows(info, str(run_id), sort.value, descending, flt, offset, first)
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

    @strawberry.field(permission_classes=[ReadAccess], description="One feature of a run; null when absent.")
    async def feature(self, info: Info, run_id: strawberry.ID, index: int) -> Feature | None:
        row = await loaders(info).features.load((str(run_id), index))
        if row is None:
            await require_run(info, str(run_id))
            return None
        return Feature.from_row(row)

    @strawberry.field(
        permission_classes=[ReadAccess],
        description='Features responding most to a token (e.g. " cat"), strongest first.',
    )
    async def token_features(
        self, info: Info, run_id: strawberry.ID, token: str, first: int = 20
    ) -> list[FeatureRef]:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        if not token:
            raise BadInput("token: empty", field="token")
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

    @strawberry.field(
        permission_classes=[ReadAccess],
        description="Keyword search over labels, tokens and example text of a run's features, best first.",
    )
    async def search(self, info: Info, run_id: strawberry.ID, query: str, first: int = 20) -> list[SearchHit]:
        check_page_size(first, ctx(info).state.settings.max_page_size)
        if len(query) > MAX_QUERY_CHARS:
            raise BadInput(f"query: at most {MAX_QUERY_CHARS} characters (got {len(query)})", field="query")
        return await loaders(info).query(_search, str(run_id), query, first)

    @strawberry.field(permission_classes=[ReadAccess], description="A feature's nearest neighbours.")
    async def similar_features(
        self,
        info: Info,
        run_id: strawberry.ID,
        index: int,
        by: SimilarityKind = SimilarityKind.DECODER,
        first: int = 10,
    ) -> list[FeatureRef]:
        row = await require_feature(info, str(run_id), index)
        return await Feature.from_row(row)._neighbours(info, by, first)


async def _page_rows(
    info: Info,
    run_id: str,
    sort: SortKey,
    descending: bool,
    flt: RowFilter | None,
    offset: int,
    limit: int,
) -> tuple[list[FeatureRow], int]:
    """(rows, total) of an explorer page: unfiltered pages slice the run's cached order (filled on first use),
    filtered ones (or with the response cache off) run the ORDER BY / COUNT in the database."""
    memos = ctx(info).state.memos
    if flt is not None or not memos.enabled:
        return await loaders(info).query(_page_and_count, run_id, sort, descending, flt, offset, limit)
    key = ("order", run_id, sort, descending)
    order: tuple[int, ...] | None = memos.get(key)
    if order is None:
        order = await loaders(info).query(feature_order, run_id, sort, descending)
        if not order:  # no features: an unknown run is an error, an unanalysed one an empty list
            await require_run(info, run_id)
            return [], 0
        memos.put(key, order)
    keys = [(run_id, index) for index in order[offset : offset + limit]]
    found = await loaders(info).query(features_by_key, keys) if keys else []
    rows = [row for row in found if row is not None]
    return rows, len(order)


def _page_and_count(
    session: Session,
    run_id: str,
    sort: SortKey,
    descending: bool,
    flt: RowFilter | None,
    offset: int,
    limit: int,
) -> tuple[list[FeatureRow], int]:
    """The page and the filtered total; a page that ends the list gives the total without a COUNT query.

    One worker-thread hop for the whole field; the run's existence is only checked when the page is empty."""
    rows = features_page(session, run_id, sort, descending, flt, offset, limit)
    if not rows:
        _check_run(session, run_id)
    if 0 < len(rows) < limit or (offset == 0 and not rows):
        return rows, offset + len(rows)
    return rows, count_features(session, run_id, flt)


def _check_run(session: Session, run_id: str) -> None:
    if not run_exists(session, run_id):
        raise NotFound(f"run {run_id!r} not found", runId=run_id)


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
    async def relabel_feature(self, info: Info, run_id: strawberry.ID, index: int, label: str) -> Feature:
        text = " ".join(label.split())
        if not text:
            raise BadInput("label: empty", field="label")
        if len(text) > MAX_LABEL_CHARS:
            raise BadInput(f"label: at most {MAX_LABEL_CHARS} characters (got {len(text)})", field="label")
        await require_feature(info, str(run_id), index)
        row = await loaders(info).query(_relabel, str(run_id), index, text)
        ctx(info).state.analysis_changed()
        return Feature.from_row(row)


def _relabel(session: Session, run_id: str, index: int, label: str) -> FeatureRow:
    row = FeatureRow.from_model(relabel_feature(session, run_id, index, label))
    session.commit()
    return row
