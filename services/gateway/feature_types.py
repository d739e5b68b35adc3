"""GraphQL types of the ``features`` domain: a feature (from its row; examples, neighbours, logit lens and the heavy
columns through the request's DataLoaders), its page, the explorer filter, search hits."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from services.gateway.common import Histogram, ctx, finite, loaders, optional
from services.gateway.errors import BadInput
from services.gateway.explanations import Explanation, explanations_of
from services.gateway.limits import check_page_size
from shared.db.repositories.features import (
    ExampleRow,
    FeatureExtras,
    FeatureKey,
    FeatureRow,
    NeighbourRow,
)
from shared.db.repositories.features import (
    FeatureFilter as RowFilter,
)
from shared.search import terms


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
        description="Legacy High | Medium | Low grade of the auto label's F1 (read explanations' named scores"
        " instead); null when unknown or too few held-out firings."
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
        description="Every explanation of the feature (analyser's and users'), oldest first, each with its method,"
        " model, named scores and sample."
    )
    async def explanations(self, info: Info) -> list[Explanation]:
        return await explanations_of(info, str(self.run_id), self.index)

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
    grades: list[str] | None = optional("Keep features with one of these grades.")
    min_density: float | None = None
    max_density: float | None = None
    label_contains: str | None = optional("Case-insensitive label substring.")

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


@strawberry.type(
    description="A feature's place on the run's 2-D dictionary map (similar decoder directions lie close)."
)
class MapPoint:
    index: int
    x: float = strawberry.field(description="Horizontal position in [0, 1].")
    y: float = strawberry.field(description="Vertical position in [0, 1].")
    density: float = strawberry.field(
        description="Fraction of analysed tokens on which it fired (the map's colour)."
    )
    dead: bool
    dense: bool
    label: str | None


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
