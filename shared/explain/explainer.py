"""Explain one feature and score the explanation by detection and fuzzing (Delphi's method; see docs/theory.md).

``explain_feature`` takes the feature's contexts already split: ``train`` (top-activating windows from contexts not
held out, what the explainer sees), ``test`` (held-out activating windows) and ``negatives`` (held-out windows on
which the feature does not fire). Detection asks which of ``test`` + ``negatives`` (plain text) show the feature;
fuzzing shows every ``test`` window twice, once with its active tokens highlighted (correct) and once with as many
tokens highlighted at random among those below the threshold (incorrect), and asks which highlighting is right.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.explain.client import ChatClient, Message
from shared.explain.config import ExplainConfig
from shared.explain.prompts import (
    Example,
    detection_messages,
    explain_messages,
    fuzzing_messages,
    highlight,
    parse_explanation,
    parse_predictions,
)
from shared.explain.scoring import Confusion, classifier_score
from shared.explanations import Score


@dataclass(frozen=True)
class FeatureContexts:
    """What the explainer and the scorers may see of one feature."""

    index: int
    train: list[Example]
    test: list[Example]
    negatives: list[Example]


@dataclass
class Explained:
    """One feature's explanation, its scores and what it cost."""

    index: int
    text: str
    scores: list[Score]
    calls: int = 0
    prompt_tokens: int = 0
    answers: list[str] = field(default_factory=list)
    """The model's raw answers, in call order (the explanation's first)."""

    @property
    def description(self) -> str:
        by = {s.name: s for s in self.scores}
        parts = [
            f"{name} {by[name].value:.2f} on {by[name].n}"
            if by[name].value is not None
            else f"{name}: no value"
            for name in ("detection", "fuzzing")
            if name in by
        ]
        return "Written from top-activating examples; " + "; ".join(parts) + " held-out contexts answered."


def fuzzed(example: Example, n_wrong: int, threshold: float, rng: random.Random) -> str | None:
    """``example`` with ``n_wrong`` tokens below the threshold highlighted at random (None: none is below)."""
    hot = set(example.above(threshold))
    cold = [i for i in range(len(example.tokens)) if i not in hot]
    if not cold:
        return None
    chosen = set(rng.sample(cold, min(n_wrong, len(cold))))
    return highlight(example.tokens, chosen.__contains__)


def _plain(example: Example) -> str:
    return "".join(example.tokens)


class _Run:
    """Calls for one feature: counts them, keeps the answers."""

    def __init__(self, client: ChatClient, out: Explained) -> None:
        self.client, self.out = client, out

    def ask(self, messages: list[Message], max_tokens: int) -> str:
        done = self.client.complete(messages, max_tokens=max_tokens)
        self.out.calls += 1
        self.out.prompt_tokens += done.prompt_tokens or 0
        self.out.answers.append(done.text)
        return done.text

    def classify(
        self,
        build: Callable[[str, Sequence[str]], list[Message]],
        explanation: str,
        samples: list[tuple[str, bool]],
        cfg: ExplainConfig,
    ) -> Confusion:
        truths: list[bool] = []
        predictions: list[bool | None] = []
        for lo in range(0, len(samples), cfg.per_prompt):
            batch = samples[lo : lo + cfg.per_prompt]
            answer = self.ask(build(explanation, [t for t, _ in batch]), cfg.score_max_tokens)
            got = parse_predictions(answer, len(batch))
            truths += [truth for _, truth in batch]
            predictions += got if got is not None else [None] * len(batch)
        return Confusion.of(truths, predictions)


def explain_feature(client: ChatClient, contexts: FeatureContexts, cfg: ExplainConfig) -> Explained:
    """Explain ``contexts.index`` from its ``train`` windows, then score by detection and fuzzing."""
    rng = random.Random(cfg.seed * 1_000_003 + contexts.index)
    out = Explained(contexts.index, "", [])
    run = _Run(client, out)
    answer = run.ask(explain_messages(contexts.train[: cfg.n_explain], cfg.threshold), cfg.explain_max_tokens)
    out.text = parse_explanation(answer) or "(the model wrote no explanation)"
    test = contexts.test[: cfg.n_test]

    detection = [(_plain(e), True) for e in test] + [
        (_plain(e), False) for e in contexts.negatives[: cfg.n_test]
    ]
    rng.shuffle(detection)
    det = run.classify(detection_messages, out.text, detection, cfg)

    n_wrong = max(1, math.ceil(sum(len(e.above(cfg.threshold)) for e in test) / max(len(test), 1)))
    fuzzing: list[tuple[str, bool]] = []
    for e in test:
        fuzzing.append((highlight(e.tokens, set(e.above(cfg.threshold)).__contains__), True))
        wrong = fuzzed(e, n_wrong, cfg.threshold, rng)
        if wrong is not None:
            fuzzing.append((wrong, False))
    rng.shuffle(fuzzing)
    fuz = run.classify(fuzzing_messages, out.text, fuzzing, cfg)
    out.scores = [classifier_score("detection", det), classifier_score("fuzzing", fuz)]
    return out


def split_windows(
    windows: Sequence[tuple[int, Example]], heldout_every: int
) -> tuple[list[Example], list[Example]]:
    """(train, test) of a feature's stored windows ``(context, example)``: held-out contexts are every
    ``heldout_every``-th (the analyser's split), so nothing the explainer saw is scored."""
    train: list[Example] = []
    test: list[Example] = []
    for context, ex in windows:
        (test if context % heldout_every == heldout_every - 1 else train).append(ex)
    return train, test
