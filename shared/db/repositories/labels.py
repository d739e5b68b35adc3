"""Feature labels: human relabels (kept in the label history, surviving re-analysis) and labels read by key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from shared.db.models import Feature, FeatureLabel
from shared.db.repositories.common import NotFound
from shared.db.repositories.features import FEATURES, FeatureKey, by_key, get_feature, keyed

_LABELS_BY_KEY = by_key(FEATURES, FEATURES.c.label)
_LABELS_OF_RUN = select(FEATURES.c.feature_index, FEATURES.c.label).where(
    FEATURES.c.run_id == bindparam("run_id")
)


def reapply_human_labels(session: Session, run_id: str) -> None:
    """Put each feature's latest human label back on its row (after a re-analysis wrote auto labels)."""
    latest = (
        select(FeatureLabel.feature_index, func.max(FeatureLabel.id).label("id"))
        .where(FeatureLabel.run_id == run_id, FeatureLabel.source == "human")
        .group_by(FeatureLabel.feature_index)
        .subquery()
    )
    for label in session.scalars(select(FeatureLabel).join(latest, FeatureLabel.id == latest.c.id)):
        session.execute(
            update(Feature)
            .where(Feature.run_id == run_id, Feature.feature_index == label.feature_index)
            .values(label=label.label, label_source="human", label_description=label.description)
        )


def relabel_feature(
    session: Session, run_id: str, index: int, label: str, description: str | None = None
) -> Feature:
    """Set a human label on a feature (kept in the label history; survives re-analysis)."""
    label = label.strip()
    if not label:
        raise ValueError("label: must not be empty")
    feature = get_feature(session, run_id, index)
    if feature is None:
        raise NotFound(f"features: run {run_id} has no analysed feature {index}")
    session.add(
        FeatureLabel(run_id=run_id, feature_index=index, source="human", label=label, description=description)
    )
    feature.label = label
    feature.label_source = "human"
    feature.label_description = description
    session.flush()
    return feature


def labels_of_run(
    session: Session, run_id: str, indices: Sequence[int] | None = None
) -> dict[int, str | None]:
    """Labels of a run's features by index, in one query: these ``indices`` (those without a feature row are
    absent), or every feature of the run when None."""
    rows: Iterable[Any]
    if indices is None:
        rows = session.execute(_LABELS_OF_RUN, {"run_id": run_id})
    else:
        rows = keyed(session, _LABELS_BY_KEY, [(run_id, index) for index in indices])
    return {row.feature_index: row.label for row in rows}


def labels_by_key(session: Session, keys: Sequence[FeatureKey]) -> list[str | None]:
    """The labels of these features (None where unlabelled or not analysed)."""
    labels = {(r, i): label for r, i, label in keyed(session, _LABELS_BY_KEY, keys)}
    return [labels.get(k) for k in keys]
