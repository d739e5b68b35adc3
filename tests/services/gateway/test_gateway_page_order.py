"""Explorer pages (index-only id subquery, then the page's rows) keep the full sort's order: ties by index, no score last."""

from __future__ import annotations

from itertools import product

from gateway_support import Seeded
from sqlalchemy import select, update

from shared.db import models as m
from shared.db.repositories.features import (
    FeatureFilter,
    FeatureRow,
    FeatureSort,
    feature_order,
    features_page,
)
from shared.db.repositories.labels import labels_of_run
from shared.db.session import session_scope

SORTS: tuple[FeatureSort, ...] = ("index", "density", "max_activation", "label_score")


def _reference(rows: list[FeatureRow], sort: str, descending: bool) -> list[int]:
    """Every feature in the explorer's order, sorted in Python: value (None last either way), then index."""
    if sort == "index":
        return sorted((r.feature_index for r in rows), reverse=descending)

    def key(r: FeatureRow) -> tuple[bool, float, int]:
        value = getattr(r, sort)
        return (value is None, 0.0 if value is None else (-value if descending else value), r.feature_index)

    return [r.feature_index for r in sorted(rows, key=key)]


def test_every_page_matches_a_full_sort_with_ties_and_missing_scores(fresh: Seeded) -> None:
    with session_scope(fresh.url) as s:
        # Few distinct values so most rows tie; several features without a label score.
        s.execute(update(m.Feature).values(density=(m.Feature.feature_index % 3) / 10.0))
        s.execute(update(m.Feature).values(max_activation=(m.Feature.feature_index % 4) * 1.5))
        s.execute(update(m.Feature).where(m.Feature.feature_index % 5 == 0).values(label_score=None))
        s.execute(update(m.Feature).where(m.Feature.feature_index % 5 == 1).values(label_score=0.5))
    with session_scope(fresh.url) as s:
        for flt in (None, FeatureFilter(grades=("High", "Low"))):
            everything = features_page(s, fresh.run_id, "index", False, flt, 0, 1000)
            assert everything, "the seeded run has features"
            for sort, descending in product(SORTS, (False, True)):
                expected = _reference(everything, sort, descending)
                pages = [features_page(s, fresh.run_id, sort, descending, flt, o, 7) for o in range(0, 35, 7)]
                got = [r.feature_index for page in pages for r in page]
                assert got == expected, (sort, descending, flt)
                if flt is None:  # the gateway's cached order (response cache on) is the same order
                    assert list(feature_order(s, fresh.run_id, sort, descending)) == expected
                assert all(r.run_id == fresh.run_id for page in pages for r in page)


def test_labels_of_run_reads_only_the_asked_indices(seeded: Seeded) -> None:
    with session_scope(seeded.url) as s:
        query = select(m.Feature.feature_index, m.Feature.label).where(m.Feature.run_id == seeded.run_id)
        stored = {index: label for index, label in s.execute(query)}
        labels = labels_of_run(s, seeded.run_id, [0, 3, 3, 4, 10_000])
    assert labels == {i: stored[i] for i in (0, 3, 4)} and any(labels.values())
