"""Ranked keyword search over analysed features: labels, firing / logit-lens tokens, and top example text.

Each feature becomes one :class:`SearchDocument` with three text fields; a query is split into terms (words, and
punctuation marks as terms of their own, so ``","`` finds comma features) and ranked with BM25 per field, weighted
by :data:`FIELD_WEIGHTS` (a match in the label counts most). A query term of 3+ characters also matches longer
words it starts (``mous`` -> ``mouse``) at half weight.

The database layer keeps the same intent with the same documents: SQLite FTS5 ``fts5(label, token, example)`` ranked
by ``bm25(table, 4.0, 2.0, 1.0)`` (FTS5's bm25 takes the column weights in this order), or PostgreSQL
``setweight(to_tsvector('simple', label), 'A') || setweight(..token.., 'B') || setweight(..example.., 'C')`` with
``ts_rank``. :func:`document_for` is the one place that decides what text a feature is found by. No torch here.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.features import ExampleRecord, FeatureRecord, Grade

SearchField = Literal["label", "token", "example"]
FIELDS: tuple[SearchField, ...] = ("label", "token", "example")
FIELD_WEIGHTS: dict[SearchField, float] = {"label": 4.0, "token": 2.0, "example": 1.0}
"""Relative weight of a match in each field."""
K1, B = 1.2, 0.75
"""BM25 term-frequency saturation and length normalisation."""
PREFIX_WEIGHT = 0.5
MIN_PREFIX = 3
EXAMPLES_PER_DOCUMENT = 10
SNIPPET_CHARS = 40

_TERM = re.compile(r"\w+|[^\w\s]")


def terms(text: str) -> list[str]:
    """Lower-cased search terms of a text: words, and each punctuation mark on its own."""
    return _TERM.findall(text.lower())


class SearchDocument(BaseModel):
    """The text a feature is found by (also what a full-text table row holds)."""

    model_config = ConfigDict(extra="forbid")

    index: int
    label: str = ""
    token: str = ""
    """Tokens it fires on most and logit-lens top tokens, separated by spaces."""
    example: str = ""
    """Text of its top examples, separated by newlines."""
    grade: Grade | None = None
    density: float = 0.0
    label_score: float | None = None
    label_text: str | None = None
    """The label as stored (None when the feature has none)."""


class SearchHit(BaseModel):
    """One ranked result."""

    model_config = ConfigDict(extra="forbid")

    index: int
    """Feature index."""
    label: str | None
    grade: Grade | None
    density: float
    score: float
    """Relevance (higher is better; only comparable within one query)."""
    field: SearchField
    """Where the best-scoring match was found."""
    snippet: str
    """The label, the matching tokens, or example text around the match."""


def document_for(feature: FeatureRecord, examples: Iterable[ExampleRecord] = ()) -> SearchDocument:
    """The search document of one feature; ``examples`` may hold any features' examples (others are ignored)."""
    tops = [e for e in examples if e.feature == feature.index and e.kind == "top"][:EXAMPLES_PER_DOCUMENT]
    tokens = [t.token.strip() for t in feature.top_tokens] + [t.token.strip() for t in feature.top_logits]
    return SearchDocument(
        index=feature.index,
        label=feature.label or "",
        token=" ".join(t for t in tokens if t),
        example="\n".join("".join(e.tokens) for e in tops),
        grade=feature.grade,
        density=feature.density,
        label_score=feature.label_score,
        label_text=feature.label,
    )


@dataclass
class _Indexed:
    doc: SearchDocument
    counts: dict[SearchField, Counter[str]]
    lengths: dict[SearchField, int]


class SearchIndex:
    """An in-memory BM25F index over feature documents."""

    def __init__(self, documents: Sequence[SearchDocument]):
        self._docs = [
            _Indexed(
                doc=d,
                counts={f: Counter(terms(getattr(d, f))) for f in FIELDS},
                lengths={f: len(terms(getattr(d, f))) for f in FIELDS},
            )
            for d in documents
        ]
        n = max(len(self._docs), 1)
        self._avg = {f: max(sum(x.lengths[f] for x in self._docs) / n, 1.0) for f in FIELDS}
        self._df: Counter[str] = Counter()
        for x in self._docs:
            self._df.update({t for f in FIELDS for t in x.counts[f]})
        self._vocab = sorted(self._df)

    @classmethod
    def from_records(
        cls, features: Iterable[FeatureRecord], examples: Iterable[ExampleRecord] = ()
    ) -> SearchIndex:
        by_feature: dict[int, list[ExampleRecord]] = {}
        for e in examples:
            by_feature.setdefault(e.feature, []).append(e)
        return cls([document_for(f, by_feature.get(f.index, [])) for f in features])

    def _expand(self, term: str) -> list[tuple[str, float]]:
        """The indexed terms a query term matches, with their weight (exact 1, prefix PREFIX_WEIGHT)."""
        out = [(term, 1.0)] if term in self._df else []
        if len(term) >= MIN_PREFIX:
            out += [(t, PREFIX_WEIGHT) for t in self._vocab if t != term and t.startswith(term)]
        return out

    def _idf(self, term: str) -> float:
        n, df = len(self._docs), self._df[term]
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Features matching ``query``, best first (ties: higher label score, then lower index)."""
        expanded = [(t, w * self._idf(t)) for q in dict.fromkeys(terms(query)) for t, w in self._expand(q)]
        if not expanded or limit < 1:
            return []
        scored = []
        for x in self._docs:
            per_field = {f: self._field_score(x, f, expanded) for f in FIELDS}
            total = sum(per_field.values())
            if total > 0:
                scored.append((total, max(FIELDS, key=lambda f: per_field[f]), x))
        scored.sort(key=lambda s: (-s[0], -(s[2].doc.label_score or -1.0), s[2].doc.index))
        return [self._hit(score, field, x, [t for t, _ in expanded]) for score, field, x in scored[:limit]]

    def _field_score(self, x: _Indexed, field: SearchField, expanded: list[tuple[str, float]]) -> float:
        counts, length = x.counts[field], x.lengths[field]
        norm = K1 * (1 - B + B * length / self._avg[field])
        score = 0.0
        for term, weight in expanded:
            tf = counts.get(term, 0)
            if tf:
                score += weight * tf * (K1 + 1) / (tf + norm)
        return FIELD_WEIGHTS[field] * score

    @staticmethod
    def _hit(score: float, field: SearchField, x: _Indexed, matched: list[str]) -> SearchHit:
        d = x.doc
        if field == "label":
            snippet = d.label
        elif field == "token":
            snippet = " ".join(t for t in dict.fromkeys(d.token.split()) if set(terms(t)) & set(matched))
        else:
            snippet = _snippet(d.example, matched)
        return SearchHit(
            index=d.index,
            label=d.label_text,
            grade=d.grade,
            density=d.density,
            score=score,
            field=field,
            snippet=snippet,
        )


def _snippet(text: str, matched: list[str]) -> str:
    """Text around the first occurrence of any matched term (case-insensitive)."""
    lower = text.lower()
    hits = [i for i in (lower.find(t) for t in matched) if i >= 0]
    if not hits:
        return text[: 2 * SNIPPET_CHARS]
    i = min(hits)
    lo, hi = max(0, i - SNIPPET_CHARS), min(len(text), i + SNIPPET_CHARS)
    snippet = text[lo:hi].replace("\n", " ")
    return ("…" if lo > 0 else "") + snippet + ("…" if hi < len(text) else "")


def search(
    features: Iterable[FeatureRecord], query: str, limit: int = 20, examples: Iterable[ExampleRecord] = ()
) -> list[SearchHit]:
    """Rank ``features`` for ``query`` (builds a throwaway index; keep a :class:`SearchIndex` to search often)."""
    return SearchIndex.from_records(features, examples).search(query, limit)
