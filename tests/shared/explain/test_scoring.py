"""Detection and fuzzing scores: confusion counts, balanced accuracy (Delphi's "accuracy"), intervals, samples."""

from __future__ import annotations

import pytest

from shared.explain.scoring import MIN_PER_CLASS, UNIT, Confusion, balanced_accuracy, classifier_score
from shared.explanations import wilson


def test_confusion_counts_each_cell_and_sets_unreadable_answers_apart() -> None:
    truths = [True, True, True, False, False, False, True]
    preds = [True, False, True, True, False, False, None]
    assert Confusion.of(truths, preds) == Confusion(tp=2, fn=1, tn=2, fp=1, failed=1)
    with pytest.raises(ValueError, match="3 truths but 2"):
        Confusion.of([True] * 3, [True] * 2)


def test_balanced_accuracy_weights_the_classes_equally() -> None:
    # 9 of 10 positives, 1 of 2 negatives: plain accuracy 10/12 = 0.83, balanced (0.9 + 0.5) / 2 = 0.7
    c = Confusion(tp=9, fn=1, tn=1, fp=1)
    assert balanced_accuracy(c) == pytest.approx(0.7)
    # saying "yes" to everything is chance, however many positives there are
    assert balanced_accuracy(Confusion(tp=20, fn=0, tn=0, fp=5)) == pytest.approx(0.5)
    assert balanced_accuracy(Confusion(tp=3, fn=0, tn=4, fp=0)) == 1.0
    with pytest.raises(ValueError):
        balanced_accuracy(Confusion(tp=3, fn=0, tn=0, fp=0))


def test_score_has_its_sample_and_a_conservative_interval() -> None:
    c = Confusion(tp=8, fn=2, tn=6, fp=4, failed=3)
    s = classifier_score("detection", c)
    assert (s.name, s.n, s.unit, s.reason) == ("detection", 20, UNIT, None)
    assert s.value == pytest.approx((0.8 + 0.6) / 2)
    lo_p, hi_p = wilson(8, 10)
    lo_n, hi_n = wilson(6, 10)
    assert s.ci_low == pytest.approx((lo_p + lo_n) / 2) and s.ci_high == pytest.approx((hi_p + hi_n) / 2)
    assert s.ci_low < s.value < s.ci_high


def test_too_few_answers_of_a_class_give_no_value_only_the_reason() -> None:
    few = Confusion(tp=5, fn=0, tn=MIN_PER_CLASS - 1, fp=0, failed=4)
    s = classifier_score("fuzzing", few)
    assert s.value is None and s.ci_low is None and s.n == 5 + MIN_PER_CLASS - 1
    assert (
        s.reason is not None and "4 answers unreadable" in s.reason and f"{MIN_PER_CLASS} of each" in s.reason
    )
    enough = classifier_score("fuzzing", Confusion(tp=MIN_PER_CLASS, fn=0, tn=MIN_PER_CLASS, fp=0))
    assert enough.value == 1.0
