"""Explanations of features and the named scores behind them: one definition for the analyser, the database and the API.

An explanation is a sentence about a feature, made by a *method* (``offline token-list labeller``, ``human``, an LLM
explainer) with an optional *model*, and scored on held-out contexts. Scores are counts turned into named numbers
here, once, with a 95 % confidence interval and the sample behind them; where the sample is too small
(``MIN_HELDOUT_FIRINGS``) a score has no value, only the reason. No torch here.

The offline labeller's rule "the feature fires iff the token is one of these" is scored by its precision (of the
held-out occurrences of its tokens, the share on which the feature fired), its recall (of the feature's held-out
firings, the share on its tokens) and their harmonic mean F1. Precision and recall get Wilson intervals at
97.5 % each; F1 grows with both, so F1 of the two lower (upper) bounds is a conservative joint 95 % interval.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

OFFLINE_METHOD = "offline token-list labeller"
"""Method name of the analyser's offline labeller (the one that needs no model)."""
HUMAN_METHOD = "human"
"""Method name of an explanation a user wrote."""

MIN_HELDOUT_FIRINGS = 10
"""Held-out firings a feature needs before its token-rule scores get a value (below: too few to mean anything)."""

_Z_975 = 2.241402727604947
"""Standard normal quantile at 1 - 0.025 / 2 (a 97.5 % two-sided Wilson interval)."""

SCORE_HELP: dict[str, str] = {
    "precision": "Of the held-out occurrences of the explanation's tokens, the share on which the feature fired.",
    "recall": "Of the feature's firings on held-out contexts, the share that fell on the explanation's tokens.",
    "F1": "Harmonic mean of precision and recall of the token rule on held-out contexts (1 = the rule predicts "
    "every firing and nothing else; 0 = no overlap).",
    "detection": "Balanced accuracy of an LLM telling, from the explanation alone, held-out contexts where the feature "
    "fires from ones where it does not (Delphi's detection; 0.5 = chance, 1 = perfect).",
    "fuzzing": "Balanced accuracy of an LLM telling held-out contexts with the feature's own tokens highlighted from "
    "the same contexts with random tokens highlighted, given the explanation (Delphi's fuzzing; 0.5 = chance).",
}
"""What each named score measures (tooltips and legends read it from the API)."""


class Score(BaseModel):
    """One named score of an explanation, with its sample and 95 % confidence interval."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """``precision`` | ``recall`` | ``F1`` (keys of ``SCORE_HELP``) or a method's own (``detection``, ``fuzzing``)."""
    value: float | None
    """The score in [0, 1]; None when the sample is too small (see ``reason``)."""
    ci_low: float | None = None
    """Lower end of the 95 % confidence interval."""
    ci_high: float | None = None
    """Upper end of the 95 % confidence interval."""
    n: int
    """Size of the sample behind the score, in ``unit``."""
    unit: str
    """What ``n`` counts, e.g. ``held-out firings``."""
    reason: str | None = None
    """Why there is no value (too small a sample), else None."""


def quote_token(token: str) -> str:
    """A token as an unambiguous list item: double-quoted, spaces shown as ``␣``, newlines as ``\\n``, tabs as
    ``\\t`` (so ``"␣ash"`` is the word and ``"ash"`` the piece inside ``leash``, and a ``","`` item reads as one)."""
    shown = token.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"' + shown.replace(" ", "␣") + '"'


def wilson(successes: int, n: int, z: float = _Z_975) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``successes / n`` (n > 0)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"wilson: need 0 <= successes <= n and n > 0 (got {successes} of {n})")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def token_rule_scores(true_pos: int, predicted: int, firings: int) -> list[Score]:
    """Precision, recall and F1 of "fires iff the token is one of the rule's tokens" on held-out contexts.

    ``true_pos``: held-out firings on the rule's tokens; ``predicted``: held-out occurrences of the rule's tokens;
    ``firings``: held-out firings of the feature. With fewer than ``MIN_HELDOUT_FIRINGS`` firings no score has a
    value."""
    if not 0 <= true_pos <= min(predicted, firings):
        raise ValueError(f"token_rule_scores: true positives {true_pos} exceed {predicted} or {firings}")
    unit_f, unit_p = "held-out firings", "held-out occurrences of its tokens"
    if firings < MIN_HELDOUT_FIRINGS:
        reason = f"fired {firings} times on held-out contexts; {MIN_HELDOUT_FIRINGS} needed for a score"
        return [
            Score(name="F1", value=None, n=firings, unit=unit_f, reason=reason),
            Score(name="precision", value=None, n=predicted, unit=unit_p, reason=reason),
            Score(name="recall", value=None, n=firings, unit=unit_f, reason=reason),
        ]
    r = true_pos / firings
    r_lo, r_hi = wilson(true_pos, firings)
    if predicted:
        p = true_pos / predicted
        p_lo, p_hi = wilson(true_pos, predicted)
    else:
        p, p_lo, p_hi = 0.0, 0.0, 1.0
    f1 = _f1(p, r)
    return [
        Score(name="F1", value=f1, ci_low=_f1(p_lo, r_lo), ci_high=_f1(p_hi, r_hi), n=firings, unit=unit_f),
        Score(
            name="precision",
            value=p if predicted else None,
            ci_low=p_lo if predicted else None,
            ci_high=p_hi if predicted else None,
            n=predicted,
            unit=unit_p,
            reason=None if predicted else "its tokens never occur in the held-out contexts",
        ),
        Score(name="recall", value=r, ci_low=r_lo, ci_high=r_hi, n=firings, unit=unit_f),
    ]
