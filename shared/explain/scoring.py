"""Detection and fuzzing scores from the model's answers: confusion counts -> balanced accuracy, as Delphi reports.

Each scored example has a truth (``True`` = the feature is there / the highlighting is right) and the model's
prediction (``None`` when its answer could not be read). Unreadable answers are counted apart and left out, as in
Delphi. The score is Delphi's "accuracy", which is class-balanced: (true-positive rate + true-negative rate) / 2, so
0.5 is chance whatever the mix. Its 95 % interval is the mean of the two rates' 97.5 % Wilson bounds (a
conservative joint interval, as for F1 in ``shared.explanations``). A score needs ``MIN_PER_CLASS`` answered
examples of each class; below that it has no value, only the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.explanations import Score, wilson

MIN_PER_CLASS = 3
"""Answered examples of each class (positive and negative) a detection or fuzzing score needs for a value."""
UNIT = "held-out contexts answered"
"""What ``n`` counts for these scores."""


@dataclass(frozen=True)
class Confusion:
    """Counts of one score's answered examples, plus those whose answer could not be read."""

    tp: int
    fn: int
    tn: int
    fp: int
    failed: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.tn + self.fp

    @property
    def answered(self) -> int:
        return self.positives + self.negatives

    @classmethod
    def of(cls, truths: Sequence[bool], predictions: Sequence[bool | None]) -> Confusion:
        """Count ``predictions`` against ``truths`` (same length; a None prediction counts as failed)."""
        if len(truths) != len(predictions):
            raise ValueError(f"confusion: {len(truths)} truths but {len(predictions)} predictions")
        tp = fn = tn = fp = failed = 0
        for truth, pred in zip(truths, predictions, strict=True):
            if pred is None:
                failed += 1
            elif truth:
                tp, fn = tp + pred, fn + (not pred)
            else:
                tn, fp = tn + (not pred), fp + pred
        return cls(tp, fn, tn, fp, failed)


def balanced_accuracy(c: Confusion) -> float:
    """(TP / positives + TN / negatives) / 2; both classes must have answered examples."""
    if c.positives == 0 or c.negatives == 0:
        raise ValueError(f"balanced accuracy needs both classes answered (got {c})")
    return (c.tp / c.positives + c.tn / c.negatives) / 2


def classifier_score(name: str, c: Confusion) -> Score:
    """The named score (``detection`` or ``fuzzing``) with its interval, sample and, where too small, the reason."""
    if min(c.positives, c.negatives) < MIN_PER_CLASS:
        reason = (
            f"{c.positives} positive and {c.negatives} negative held-out contexts answered"
            f"{f' ({c.failed} answers unreadable)' if c.failed else ''}; {MIN_PER_CLASS} of each needed"
        )
        return Score(name=name, value=None, n=c.answered, unit=UNIT, reason=reason)
    tpr_lo, tpr_hi = wilson(c.tp, c.positives)
    tnr_lo, tnr_hi = wilson(c.tn, c.negatives)
    return Score(
        name=name,
        value=balanced_accuracy(c),
        ci_low=(tpr_lo + tnr_lo) / 2,
        ci_high=(tpr_hi + tnr_hi) / 2,
        n=c.answered,
        unit=UNIT,
    )
