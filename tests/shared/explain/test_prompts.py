"""The explainer's prompts and parsing: highlighting, activation lists, reading explanations and 0/1 lists, the
held-out split, fuzzing's random highlights, the cost estimate."""

from __future__ import annotations

import random

import pytest

from shared.explain.config import ExplainConfig, calls_per_feature, estimate
from shared.explain.explainer import fuzzed, split_windows
from shared.explain.prompts import (
    Example,
    detection_messages,
    explain_messages,
    highlight,
    parse_explanation,
    parse_predictions,
)

EX = Example(["The", " cat", " sat", " on", " cats"], [0.0, 1.0, 0.2, 0.0, 0.5])


def test_highlight_wraps_runs_of_marked_tokens_once() -> None:
    assert highlight(["a", "b", "c", "d"], {1, 2}.__contains__) == "a<<bc>>d"
    assert highlight(["a", "b", "c"], {0, 2}.__contains__) == "<<a>>b<<c>>"
    assert highlight(["a"], lambda i: False) == "a"


def test_tokens_at_or_above_the_threshold_share_of_the_maximum_are_marked() -> None:
    assert EX.above(0.3) == [1, 4]  # 0.2 < 0.3 x 1.0 <= 0.5
    assert EX.above(0.2) == [1, 2, 4]
    assert Example(["a"], [0.0]).above(0.3) == []  # nothing fires, nothing marked


def test_explainer_prompt_shows_marked_examples_with_activations_on_a_0_to_9_scale() -> None:
    messages = explain_messages([EX], 0.3)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "[EXPLANATION]:" in messages[0]["content"]
    assert (
        messages[-1]["content"]
        == "Example 1: The<< cat>> sat on<< cats>>\nActivations: ( cat, 9), ( cats, 4)"
    )


def test_explanations_are_read_from_the_tag_else_the_last_line() -> None:
    assert (
        parse_explanation("thinking...\n[EXPLANATION]: the word <<cat>>  and plurals")
        == "the word cat and plurals"
    )
    assert parse_explanation("[explanation] first\n[EXPLANATION]: second") == "second"
    assert parse_explanation("Words about cats.\n") == "Words about cats."
    assert parse_explanation("  \n") is None
    assert len(parse_explanation("x" * 900) or "") == 500


@pytest.mark.parametrize(
    ("answer", "n", "expected"),
    [
        ("[1, 0, 1]", 3, [True, False, True]),
        ("Sure: [0,0] and later [1,1]", 2, [False, False]),
        ("[true, false]", 2, [True, False]),
        ("[1, 0]", 3, None),  # wrong length: every example of the prompt fails
        ("[1, 2, 0]", 3, None),
        ("[0.5, 1]", 2, None),
        ("1, 0, 1", 3, None),
        ("['1', 0]", 2, None),
    ],
)
def test_predictions_are_a_list_of_n_zeros_and_ones(answer: str, n: int, expected: list[bool] | None) -> None:
    assert parse_predictions(answer, n) == expected


def test_detection_prompt_numbers_the_examples_after_the_explanation() -> None:
    last = detection_messages("cats", ["a cat", "a dog"])[-1]["content"]
    assert last == "Feature: cats\n\nExamples:\nExample 0: a cat\nExample 1: a dog"


def test_fuzzing_highlights_only_tokens_below_the_threshold() -> None:
    rng = random.Random(0)
    for _ in range(20):
        text = fuzzed(EX, 2, 0.3, rng)
        assert text is not None and "<< cat>>" not in text and "<< cats>>" not in text
        assert text.count("<<") >= 1
    assert fuzzed(Example(["a", "b"], [1.0, 1.0]), 1, 0.3, rng) is None


def test_held_out_contexts_follow_the_analysers_rule() -> None:
    a, b, c = (Example([t], [1.0]) for t in "abc")
    train, test = split_windows([(0, a), (4, b), (9, c)], heldout_every=5)
    assert train == [a] and test == [b, c]


def test_estimate_counts_calls_tokens_and_time() -> None:
    cfg = ExplainConfig(n_test=10, per_prompt=5)
    assert calls_per_feature(cfg) == (1, 4, 4)
    est = estimate(cfg, n_features=3, window_tokens=17, seconds_per_call=1.5)
    assert est.llm_calls == 27 and est.seconds == pytest.approx(40.5)
    assert est.max_completion_tokens == 3 * (cfg.explain_max_tokens + 8 * cfg.score_max_tokens)
    bigger = estimate(cfg, n_features=3, window_tokens=34)
    assert bigger.prompt_tokens > est.prompt_tokens > 3 * (10 + 4 * 10) * 17
    assert ExplainConfig(features=[3, 1, 3]).features == [1, 3]
    with pytest.raises(ValueError, match="at least one"):
        ExplainConfig(features=[])
