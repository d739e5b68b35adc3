"""Auto-labels: a short label per feature from its firing tokens, scored on held-out tokens and graded.

A label names the tokens the feature fires on (chosen on the label split of the contexts), optionally the token that
usually precedes them in the top examples, and in its description the tokens its decoder direction promotes. Its
score is the F1 of the rule "the feature fires iff the token is one of the label's tokens" on the held-out contexts,
which were never used to choose the label; the grade maps the score to High / Medium / Low as in the original
spec's case-study table. Labellers sit behind the :class:`Labeller` protocol: the offline one is the default, an LLM
can plug in through :class:`LLMLabeller` with a caller-supplied completion function (nothing here uses the network).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from shared.features import Grade

HIGH, MEDIUM = 0.7, 0.4
"""Score thresholds of the High and Medium grades (F1 on held-out tokens)."""
MIN_SUPPORT = 3
"""Held-out firings needed before a score earns a grade."""


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


def display_token(token: str) -> str:
    """A token as a reader sees it in a label: stripped, whitespace-only tokens spelled out."""
    stripped = token.strip()
    if stripped:
        return stripped
    return token.replace("\n", "\\n").replace("\t", "\\t").replace(" ", "␣") or "∅"


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
        names = list(dict.fromkeys(display_token(t.token) for t in chosen))
        text = ", ".join(names)
        before = self._common_predecessor(evidence)
        if before is not None:
            text = f"{text} (after {display_token(before)!r})"
        return Label(
            text=text,
            description=self._describe(evidence, chosen),
            token_ids=frozenset(t.token_id for t in chosen),
        )

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

    def _common_predecessor(self, evidence: LabelEvidence) -> str | None:
        before = [toks[i - 1] for toks, i in evidence.contexts if i > 0]
        if len(before) < self.min_contexts:
            return None
        token, n = Counter(before).most_common(1)[0]
        return token if n >= self.context_share * len(evidence.contexts) else None

    @staticmethod
    def _describe(evidence: LabelEvidence, chosen: list[TokenEvidence]) -> str:
        parts = []
        for t in chosen:
            share = t.fires / max(evidence.n_fires, 1)
            precision = t.fires / max(t.occurrences, 1)
            parts.append(f"{t.token!r} ({share:.0%} of firings, fires on {precision:.0%} of them)")
        text = "fires on " + ", ".join(parts)
        if evidence.promotes:
            text += "; promotes " + ", ".join(repr(t) for t in evidence.promotes[:5])
        return text


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
        return Label(text=text, description=f"LLM label; literal tokens scored: {len(ids)}", token_ids=ids)

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
