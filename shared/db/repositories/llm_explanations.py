"""What the LLM explainer reads and writes: a feature's stored windows with their context index, its rows.

Rows it writes have author ``explainer``: not editable, kept across re-analysis (the SAE they explain is the same),
and replaced when the same method and model explain the same feature again (a retried job writes each row once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.db.models import Feature, FeatureExample, FeatureExplanation

EXPLAINER = "explainer"
"""``author`` of the rows the LLM explainer writes."""


@dataclass(frozen=True, slots=True)
class StoredWindow:
    """A stored example window of a feature with the dataset context it came from."""

    context: int
    kind: str
    tokens: list[str]
    activations: list[float]
    max_activation: float


def live_features(session: Session, run_id: str, indices: Sequence[int] | None = None) -> list[int]:
    """Analysed features of the run that fired (all of them, or those of ``indices`` that exist and fired)."""
    q = select(Feature.feature_index).where(Feature.run_id == run_id, Feature.n_active > 0)
    if indices is not None:
        q = q.where(Feature.feature_index.in_(list(indices)))
    return list(session.scalars(q.order_by(Feature.feature_index)))


def feature_windows(session: Session, run_id: str, index: int) -> list[StoredWindow]:
    """Every stored window of a feature (top examples first, by activation), each with its context index."""
    rows = session.execute(
        select(
            FeatureExample.context,
            FeatureExample.kind,
            FeatureExample.tokens,
            FeatureExample.activations,
            FeatureExample.max_activation,
        )
        .where(FeatureExample.run_id == run_id, FeatureExample.feature_index == index)
        .order_by(FeatureExample.max_activation.desc(), FeatureExample.id)
    )
    seen: set[tuple[int, str]] = set()
    out = []
    for context, kind, tokens, acts, top in rows:
        key = (context, "".join(tokens))
        if key in seen:  # a window both a top example and a quantile sample counts once
            continue
        seen.add(key)
        out.append(StoredWindow(context, kind, list(tokens), [float(a) for a in acts], float(top)))
    return out


def save_llm_explanation(
    session: Session,
    run_id: str,
    index: int,
    *,
    text: str,
    description: str,
    method: str,
    model: str,
    scores: list[dict[str, Any]],
    sample_size: int,
    sample_unit: str,
) -> int:
    """Write (or replace: same feature, method and model) an explainer row; its id."""
    session.execute(
        delete(FeatureExplanation).where(
            FeatureExplanation.run_id == run_id,
            FeatureExplanation.feature_index == index,
            FeatureExplanation.author == EXPLAINER,
            FeatureExplanation.method == method,
            FeatureExplanation.model == model,
        )
    )
    row = FeatureExplanation(
        run_id=run_id,
        feature_index=index,
        text=text,
        description=description,
        method=method,
        model=model,
        author=EXPLAINER,
        scores=scores,
        sample_size=sample_size,
        sample_unit=sample_unit,
    )
    session.add(row)
    session.flush()
    return row.id
