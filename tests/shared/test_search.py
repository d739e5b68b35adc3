"""Keyword search ranks features by where the query matches: label over tokens over example text."""

from __future__ import annotations

from shared.features import ExampleRecord, FeatureRecord, Histogram, TokenValue
from shared.search import FIELD_WEIGHTS, SearchIndex, document_for, search, terms


def _feature(
    index: int, label: str | None, tokens: list[str] = (), logits: list[str] = (), score: float | None = None
) -> FeatureRecord:  # type: ignore[assignment]
    return FeatureRecord(
        index=index,
        n_active=1,
        density=0.01,
        log10_density=-2.0,
        mean_activation=1.0,
        max_activation=2.0,
        dead=False,
        dense=False,
        histogram=Histogram(edges=[1.0, 2.0], counts=[1], zero_fraction=0.99),
        top_tokens=[TokenValue(token=t, token_id=i, value=0.5) for i, t in enumerate(tokens)],
        top_logits=[TokenValue(token=t, token_id=100 + i, value=3.0) for i, t in enumerate(logits)],
        label=label,
        label_score=score,
        grade=None if score is None else "High",
    )


def _example(feature: int, text: list[str]) -> ExampleRecord:
    return ExampleRecord(
        feature=feature,
        kind="top",
        rank=0,
        context=0,
        position=0,
        tokens=text,
        token_ids=list(range(len(text))),
        activations=[1.0] * len(text),
        max_position=0,
        max_activation=1.0,
    )


FEATURES = [
    _feature(0, "dog", tokens=[" dog"]),
    _feature(1, "mouse", tokens=[" mouse", " mice"], score=0.9),
    _feature(2, "said", tokens=[" said"], logits=[" mouse"]),
    _feature(3, ",", tokens=[","]),
    _feature(4, "time (after 'upon')", tokens=[" time"]),
    _feature(5, None),
]
EXAMPLES = [_example(0, ["The", " little", " mouse", " ran", " to", " the", " dog"])]


def test_label_match_ranks_above_token_and_example_matches() -> None:
    hits = search(FEATURES, "mouse", examples=EXAMPLES)
    assert [h.index for h in hits] == [1, 2, 0]
    assert [h.field for h in hits] == ["label", "token", "example"]
    assert hits[0].snippet == "mouse" and hits[0].label == "mouse" and hits[0].grade == "High"
    assert "mouse" in hits[2].snippet
    assert hits[0].score > hits[1].score > hits[2].score > 0


def test_punctuation_is_searchable() -> None:
    hits = search(FEATURES, ",")
    assert hits[0].index == 3


def test_prefix_matches_rank_below_exact() -> None:
    hits = search(FEATURES + [_feature(6, "mous")], "mous")
    assert hits[0].index == 6
    assert 1 in [h.index for h in hits[1:]]


def test_multi_term_query_and_limit() -> None:
    hits = search(FEATURES, "upon time", limit=1)
    assert len(hits) == 1 and hits[0].index == 4


def test_no_match_and_empty_query() -> None:
    assert search(FEATURES, "zebra") == []
    assert search(FEATURES, "   ") == []


def test_ties_break_by_label_score_then_index() -> None:
    twins = [_feature(7, "cat"), _feature(8, "cat", score=0.8), _feature(9, "cat")]
    assert [h.index for h in search(twins, "cat")] == [8, 7, 9]


def test_documents_are_what_a_full_text_table_would_hold() -> None:
    doc = document_for(FEATURES[0], EXAMPLES)
    assert doc.label == "dog" and doc.token == "dog"
    assert doc.example == "The little mouse ran to the dog"
    assert set(FIELD_WEIGHTS) == {"label", "token", "example"}
    assert terms("Once upon a time, the cat!") == ["once", "upon", "a", "time", ",", "the", "cat", "!"]


def test_index_is_reusable() -> None:
    index = SearchIndex.from_records(FEATURES, EXAMPLES)
    assert index.search("dog")[0].index == 0
    assert index.search("said")[0].index == 2
