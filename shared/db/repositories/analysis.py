"""A run's analysis results, replaced in bulk: features, examples, neighbours, logit lens, token index, labels.

``replace_run_analysis`` streams the analyser's records once and rewrites every row of the run, so re-running an
analysis never duplicates rows; human labels made earlier are re-applied on top of the new auto labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from shared.db.models import (
    Feature,
    FeatureExample,
    FeatureExplanation,
    FeatureLabel,
    FeatureLogit,
    FeatureNeighbour,
    TokenFeatureRow,
    utcnow,
)
from shared.db.repositories.common import batched, insert_all
from shared.db.repositories.explanations import analyser_rows, delete_analyser_explanations
from shared.db.repositories.labels import reapply_human_labels
from shared.db.repositories.runs import get_run
from shared.features import ExampleRecord, FeatureRecord, RunSummary, TokenIndexRecord

_SNIPPETS_PER_FEATURE = 3


def _example_row(run_id: str, ex: ExampleRecord) -> dict[str, Any]:
    low, high = ex.bin_range if ex.bin_range is not None else (None, None)
    return {
        "run_id": run_id,
        "feature_index": ex.feature,
        "kind": ex.kind,
        "bin": ex.bin,
        "bin_low": low,
        "bin_high": high,
        "rank": ex.rank,
        "context": ex.context,
        "position": ex.position,
        "tokens": ex.tokens,
        "token_ids": ex.token_ids,
        "activations": ex.activations,
        "max_position": ex.max_position,
        "max_activation": ex.max_activation,
    }


def _search_text(rec: FeatureRecord, snippets: list[str]) -> str:
    parts = [rec.label_description or ""]
    parts += [t.token.strip() for t in rec.top_tokens]
    parts += [t.token.strip() for t in rec.top_logits]
    parts += snippets
    return " ".join(p for p in parts if p)


def _feature_row(run_id: str, rec: FeatureRecord, snippets: list[str]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "feature_index": rec.index,
        "n_active": rec.n_active,
        "density": rec.density,
        "log10_density": rec.log10_density,
        "mean_activation": rec.mean_activation,
        "max_activation": rec.max_activation,
        "dead": rec.dead,
        "dense": rec.dense,
        "histogram": rec.histogram.model_dump(mode="json"),
        "top_tokens": [t.model_dump(mode="json") for t in rec.top_tokens],
        "label": rec.label,
        "label_source": rec.label_source,
        "label_description": rec.label_description,
        "label_score": rec.label_score,
        "grade": rec.grade,
        "search_text": _search_text(rec, snippets),
        "map_x": rec.map_x,
        "map_y": rec.map_y,
    }


def _child_rows(run_id: str, rec: FeatureRecord) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    neighbours = [
        {
            "run_id": run_id,
            "feature_index": rec.index,
            "kind": kind,
            "rank": i,
            "neighbour_index": n.index,
            "score": n.score,
        }
        for kind, refs in (("decoder", rec.decoder_neighbours), ("coactivation", rec.coactivation_neighbours))
        for i, n in enumerate(refs)
    ]
    logits = [
        {
            "run_id": run_id,
            "feature_index": rec.index,
            "direction": direction,
            "rank": i,
            "token": t.token,
            "token_id": t.token_id,
            "value": t.value,
        }
        for direction, values in (("top", rec.top_logits), ("bottom", rec.bottom_logits))
        for i, t in enumerate(values)
    ]
    return neighbours, logits


def delete_run_analysis(session: Session, run_id: str) -> None:
    """Remove a run's analysis rows (human labels and users' explanations are kept)."""
    for model in (FeatureExample, FeatureNeighbour, FeatureLogit, TokenFeatureRow, Feature):
        session.execute(delete(model).where(model.run_id == run_id))
    session.execute(delete(FeatureLabel).where(FeatureLabel.run_id == run_id, FeatureLabel.source != "human"))
    delete_analyser_explanations(session, run_id)


@dataclass(frozen=True)
class AnalysisCounts:
    """Rows written by one ``replace_run_analysis``."""

    features: int
    examples: int
    neighbours: int
    logits: int
    tokens: int


def replace_run_analysis(
    session: Session,
    run_id: str,
    *,
    features: Iterable[FeatureRecord],
    examples: Iterable[ExampleRecord],
    token_index: Iterable[TokenIndexRecord],
    summary: RunSummary | None = None,
) -> AnalysisCounts:
    """Replace every analysis row of ``run_id`` with these records, in bulk (streams the iterables once).

    Examples are consumed first (their text feeds full-text search), then features, then the token index.
    Human relabels made earlier are re-applied on top of the new auto labels.
    """
    get_run(session, run_id)
    delete_run_analysis(session, run_id)
    snippets: dict[int, list[str]] = {}

    def example_rows() -> Iterable[dict[str, Any]]:
        for ex in examples:
            if ex.kind == "top" and len(snippets.setdefault(ex.feature, [])) < _SNIPPETS_PER_FEATURE:
                snippets[ex.feature].append("".join(ex.tokens))
            yield _example_row(run_id, ex)

    n_examples = insert_all(session, FeatureExample, example_rows())
    n_features = n_neighbours = n_logits = 0
    for batch in batched(features):
        session.execute(insert(Feature), [_feature_row(run_id, r, snippets.get(r.index, [])) for r in batch])
        children = [_child_rows(run_id, r) for r in batch]
        neighbours = [row for n, _ in children for row in n]
        logits = [row for _, lg in children for row in lg]
        labels = [
            {
                "run_id": run_id,
                "feature_index": r.index,
                "source": r.label_source,
                "label": r.label,
                "description": r.label_description,
                "score": r.label_score,
                "grade": r.grade,
            }
            for r in batch
            if r.label is not None and r.label_source != "human"
        ]
        explained = analyser_rows(run_id, batch)
        for model, rows in (
            (FeatureNeighbour, neighbours),
            (FeatureLogit, logits),
            (FeatureLabel, labels),
            (FeatureExplanation, explained),
        ):
            if rows:
                session.execute(insert(model), rows)
        n_features += len(batch)
        n_neighbours += len(neighbours)
        n_logits += len(logits)
    n_tokens = insert_all(
        session,
        TokenFeatureRow,
        (
            {
                "run_id": run_id,
                "token_id": rec.token_id,
                "token": rec.token,
                "count": rec.count,
                "rank": i,
                "feature_index": tf.index,
                "mean_activation": tf.mean_activation,
                "fire_fraction": tf.fire_fraction,
            }
            for rec in token_index
            for i, tf in enumerate(rec.features)
        ),
    )
    reapply_human_labels(session, run_id)
    run = get_run(session, run_id)
    if summary is not None:
        run.summary = summary.model_dump(mode="json")
    run.analysed_at = utcnow()
    return AnalysisCounts(n_features, n_examples, n_neighbours, n_logits, n_tokens)
