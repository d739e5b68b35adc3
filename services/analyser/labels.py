"""Auto-labels: a short label per feature from its firing tokens, scored on held-out tokens.

The offline token-list labeller names the tokens the feature fires on (chosen on the label split of the contexts),
each quoted with visible whitespace (``"␣ash"`` is the word, ``"ash"`` the piece of ``leash``), optionally the token
that usually precedes them in the top examples (the context rule, spelled out in the description with its count),
and the tokens its decoder direction promotes. Its scores (precision, recall, F1 of the rule "the feature fires iff
the token is one of the label's tokens", with confidence intervals: ``shared.explanations``) are measured on the
held-out contexts, which were never used to choose the label. The legacy High / Medium / Low grade is kept in the
records for old clients only. Labellers sit behind the :class:`Labeller` protocol: the offline one is the default, an
LLM can plug in through :class:`LLMLabeller` with a caller-supplied completion function (nothing here uses the
network).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from shared.explanations import MIN_HELDOUT_FIRINGS, OFFLINE_METHOD, quote_token
from shared.features import Grade

HIGH, MEDIUM = 0.7, 0.4
"""Score thresholds of the High and Medium grades (F1 on held-out tokens)."""
MIN_SUPPORT = MIN_HELDOUT_FIRINGS
"""Held-out firings needed before a score earns a grade (the same bar as for showing any score)."""


class TokenEvidence(NamedTuple):
    """How a feature responds to one token on the label split."""

    token_id: int
    token: str
    fires: int
    """Label-split tokens equal to this one on which the feature fired."""
    occurrences: int
    """Label-split occurrences of the token."""


@dataclass(frozen=True)
class LabelEvidence:
    """What a labeller may look at for one feature (all from the label split, never the held-out one)."""

    index: int
    n_fires: int
    """Label-split tokens on which the feature fired."""
    tokens: Sequence[TokenEvidence]
    """Tokens it fired on, most firings first."""
    contexts: Sequence[tuple[Sequence[str], int]] = ()
    """Top example windows (decoded tokens, centre index), highest activation first."""
    promotes: Sequence[str] = ()
    """Logit-lens top tokens of the decoder direction."""


@dataclass(frozen=True)
class Label:
    """A label and the tokens it claims the feature fires on (what the held-out score tests)."""

    text: str
    description: str
    token_ids: frozenset[int] = field(default_factory=frozenset)
    method: str = OFFLINE_METHOD
    """How it was made (``shared.explanations`` method names)."""
    model: str | None = None
    """The model that wrote it (None for the offline labeller)."""


class Labeller(Protocol):
    """Turns a feature's evidence into a label."""

    def label(self, evidence: LabelEvidence) -> Label: ...


# --------------------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------------------


def f1(true_pos: int, predicted: int, actual: int) -> float | None:
    """F1 = 2 TP / (predicted positives + actual positives); None when both are zero."""
    if predicted + actual == 0:
        return None
    return 2.0 * true_pos / (predicted + actual)


def grade_of(score: float | None, support: int) -> Grade | None:
    """High / Medium / Low from a label score; None when there is no score or fewer than ``MIN_SUPPORT`` held-out
    firings behind it (too few to grade)."""
    if score is None or support < MIN_SUPPORT:
        return None
    return "High" if score >= HIGH else "Medium" if score >= MEDIUM else "Low"


# --------------------------------------------------------------------------------------------------------------
# Offline labeller
# --------------------------------------------------------------------------------------------------------------


@dataclass
class OfflineLabeller:
    """Greedy token-set label: add the most-fired tokens while they raise F1 on the label split."""

    max_tokens: int = 4
    max_candidates: int = 20
    context_share: float = 0.6
    """Name the preceding token when at least this share of the top examples has the same one."""
    min_contexts: int = 5
    """... and at least this many top examples are available to judge that."""

    def label(self, evidence: LabelEvidence) -> Label:
        chosen = self._choose(evidence)
        if not chosen:
            return Label(text="(no firing tokens)", description="never fired on the label split")
        names = list(dict.fromkeys(quote_token(t.token) for t in chosen))
        text = " or ".join(names)
        rule = f"Token rule: fires on {'the token' if len(names) == 1 else 'any of the tokens'} {text}"
        rule += " (exact tokens; ␣ marks a space, \\n a newline)."
        before = self._common_predecessor(evidence)
        if before is not None:
            token, n, of = before
            text = f"{text} after {quote_token(token)}"
            rule += (
                f" Context: in {n} of {of} top examples (label split) the token before is {quote_token(token)};"
                " the scores test the token rule only."
            )
        if evidence.promotes:
            rule += " Promotes " + ", ".join(quote_token(t) for t in evidence.promotes[:5]) + "."
        return Label(text=text, description=rule, token_ids=frozenset(t.token_id for t in chosen))

    def _choose(self, evidence: LabelEvidence) -> list[TokenEvidence]:
        chosen: list[TokenEvidence] = []
        tp = predicted = 0
        best = 0.0
        for cand in list(evidence.tokens)[: self.max_candidates]:
            if len(chosen) == self.max_tokens:
                break
            score = f1(tp + cand.fires, predicted + cand.occurrences, evidence.n_fires) or 0.0
            if score > best:
                chosen.append(cand)
                tp, predicted, best = tp + cand.fires, predicted + cand.occurrences, score
        return chosen

    def _common_predecessor(self, evidence: LabelEvidence) -> tuple[str, int, int] | None:
        """(token, examples preceded by it, examples) when one token precedes most top examples."""
        before = [toks[i - 1] for toks, i in evidence.contexts if i > 0]
        if len(before) < self.min_contexts:
            return None
        token, n = Counter(before).most_common(1)[0]
        of = len(evidence.contexts)
        return (token, n, of) if n >= self.context_share * of else None


# --------------------------------------------------------------------------------------------------------------
# LLM plug-in point (off by default)
# --------------------------------------------------------------------------------------------------------------

Complete = Callable[[str], str]
"""A completion function: prompt in, text out (the caller wires it to a model; nothing here calls a network)."""


@dataclass
class LLMLabeller:
    """Asks a language model for a short label; the label's tokens are the evidence tokens it names literally."""

    complete: Complete
    n_contexts: int = 10

    def label(self, evidence: LabelEvidence) -> Label:
        text = (
            self.complete(self.prompt(evidence)).strip().splitlines()[0].strip().strip('"')
            if evidence.tokens
            else ""
        )
        if not text:
            return Label(text="(no label)", description="the LLM labeller returned nothing")
        words = {w.lower() for w in re.findall(r"\w+|[^\w\s]", text)}
        ids = frozenset(t.token_id for t in evidence.tokens if t.token.strip().lower() in words)
        return Label(
            text=text,
            description=f"LLM label; literal tokens scored: {len(ids)}",
            token_ids=ids,
            method="llm token-list",
        )

    def prompt(self, evidence: LabelEvidence) -> str:
        lines = [
            "Below are text excerpts where one feature of a neural network fires; the token it fires on most is",
            "marked [[like this]]. Answer with a label of at most five words describing what it detects.",
        ]
        for toks, i in list(evidence.contexts)[: self.n_contexts]:
            lines.append("".join(toks[:i]) + "[[" + toks[i] + "]]" + "".join(toks[i + 1 :]))
        if evidence.promotes:
            lines.append(
                "It makes these next tokens more likely: " + ", ".join(repr(t) for t in evidence.promotes)
            )
        return "\n".join(lines)
