"""Feature explanations: the analyser's rows (replaced with each analysis), users' own (added and edited), read by key.

Each row carries its method, the model that made it, its named scores (``shared.explanations.Score`` dicts) and the
sample size behind them. Analyser rows are written by ``analysis.replace_run_analysis``; rows a user wrote survive
re-analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from shared.db.models import FeatureExplanation
from shared.db.repositories.common import NotFound
from shared.db.repositories.features import FeatureKey, by_key, get_feature, keyed
from shared.explanations import HUMAN_METHOD
from shared.features import FeatureRecord

ANALYSER = "analyser"
"""``author`` of the rows an analysis writes."""
USER = "user"
"""``author`` of the rows users write through the API."""
MAX_TEXT = 500
MAX_DESCRIPTION = 4000

_TABLE: Table = FeatureExplanation.__table__  # type: ignore[assignment]
_COLUMNS = (
    "id",
    "text",
    "description",
    "method",
    "model",
    "author",
    "scores",
    "sample_size",
    "sample_unit",
    "created_at",
    "updated_at",
)
_BY_KEY = by_key(_TABLE, *(_TABLE.c[c] for c in _COLUMNS), order_by=[_TABLE.c.feature_index, _TABLE.c.id])


@dataclass(frozen=True, slots=True)
class ExplanationRow:
    """One explanation as the gateway reads it."""

    id: int
    text: str
    description: str | None
    method: str
    model: str | None
    author: str
    scores: list[dict[str, Any]]
    sample_size: int | None
    sample_unit: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: FeatureExplanation) -> ExplanationRow:
        return cls(*(getattr(row, c) for c in _COLUMNS))


def analyser_rows(run_id: str, records: Sequence[FeatureRecord]) -> list[dict[str, Any]]:
    """Insert rows for the auto labels of these records (unlabelled and human-labelled records give none)."""
    rows = []
    for r in records:
        if r.label is None or r.label_source == "human" or r.label_method is None:
            continue
        f1 = next((s for s in r.label_scores if s.name == "F1"), None)
        rows.append(
            {
                "run_id": run_id,
                "feature_index": r.index,
                "text": r.label,
                "description": r.label_description,
                "method": r.label_method,
                "model": r.label_model,
                "author": ANALYSER,
                "scores": [s.model_dump(mode="json") for s in r.label_scores],
                "sample_size": f1.n if f1 else None,
                "sample_unit": f1.unit if f1 else None,
            }
        )
    return rows


def delete_analyser_explanations(session: Session, run_id: str) -> None:
    """Remove the explanations an analysis wrote for ``run_id`` (users' own stay)."""
    session.execute(
        delete(FeatureExplanation).where(
            FeatureExplanation.run_id == run_id, FeatureExplanation.author == ANALYSER
        )
    )


def explanations_by_key(session: Session, keys: Sequence[FeatureKey]) -> list[list[ExplanationRow]]:
    """Every explanation of these features, oldest first (an empty list where there is none)."""
    found: dict[FeatureKey, list[ExplanationRow]] = {}
    for row in keyed(session, _BY_KEY, keys):
        found.setdefault((row[0], row[1]), []).append(ExplanationRow(*row[2:]))
    return [found.get(k, []) for k in keys]


def _clean(text: str, description: str | None) -> tuple[str, str | None]:
    text = " ".join(text.split())
    if not text:
        raise ValueError("text: an explanation must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text: at most {MAX_TEXT} characters (got {len(text)})")
    description = (description or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValueError(f"description: at most {MAX_DESCRIPTION} characters (got {len(description)})")
    return text, description


def add_explanation(
    session: Session, run_id: str, index: int, text: str, description: str | None = None
) -> ExplanationRow:
    """A user's explanation of an analysed feature (method ``human``, no scores until something scores it)."""
    text, description = _clean(text, description)
    if get_feature(session, run_id, index) is None:
        raise NotFound(f"features: run {run_id} has no analysed feature {index}")
    row = FeatureExplanation(
        run_id=run_id,
        feature_index=index,
        text=text,
        description=description,
        method=HUMAN_METHOD,
        model=None,
        author=USER,
        scores=[],
    )
    session.add(row)
    session.flush()
    return ExplanationRow.from_model(row)


def edit_explanation(
    session: Session, explanation_id: int, text: str, description: str | None = None
) -> ExplanationRow:
    """Change the text (and description) of a user's explanation; the analyser's own are read-only."""
    text, description = _clean(text, description)
    row = session.get(FeatureExplanation, explanation_id)
    if row is None:
        raise NotFound(f"explanations: no explanation {explanation_id}")
    if row.author != USER:
        raise PermissionError(
            f"explanation {explanation_id} was written by the {row.method}, which re-analysis replaces: add your"
            " own explanation instead of editing it"
        )
    row.text, row.description = text, description
    session.flush()
    return ExplanationRow.from_model(row)
