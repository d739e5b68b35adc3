"""Auto-labels: greedy token choice, held-out F1 grading, the LLM plug-in point and its default-off guard."""

from __future__ import annotations

import pytest

from services.analyser.analyse import pick_labeller
from services.analyser.labels import (
    LabelEvidence,
    LLMLabeller,
    OfflineLabeller,
    TokenEvidence,
    f1,
    grade_of,
)
from shared.config import AnalyseConfig, ConfigError


def _evidence(*tokens: tuple[str, int, int], contexts=(), n_fires: int | None = None) -> LabelEvidence:  # noqa: ANN001
    toks = [TokenEvidence(token_id=i, token=t, fires=f, occurrences=c) for i, (t, f, c) in enumerate(tokens)]
    return LabelEvidence(
        index=0,
        n_fires=n_fires if n_fires is not None else sum(t.fires for t in toks),
        tokens=toks,
        contexts=contexts,
    )


def test_single_token_feature_gets_that_token() -> None:
    label = OfflineLabeller().label(_evidence((" cat", 40, 40), (" the", 1, 500)))
    assert label.text == '"␣cat"' and label.token_ids == frozenset({0})
    assert label.method == "offline token-list labeller" and label.model is None
    assert label.description.startswith('Token rule: fires on the token "␣cat" (exact tokens;')


def test_concept_feature_collects_tokens_while_f1_improves() -> None:
    ev = _evidence((" mouse", 20, 22), (" mice", 15, 16), (" rat", 10, 10), (" the", 3, 900))
    label = OfflineLabeller().label(ev)
    assert label.text == '"␣mouse" or "␣mice" or "␣rat"'
    assert label.token_ids == frozenset({0, 1, 2})


def test_common_preceding_token_is_named() -> None:
    ctx = [(["Once", " upon", " a", " time"], 3)] * 4 + [(["In", " no", " time"], 2)]
    label = OfflineLabeller().label(_evidence((" time", 30, 35), contexts=ctx))
    assert label.text == '"␣time" after "␣a"'
    assert 'Context: in 4 of 5 top examples (label split) the token before is "␣a"' in label.description


def test_f1_and_grades() -> None:
    assert f1(10, 10, 10) == 1.0 and f1(0, 0, 0) is None and f1(0, 5, 5) == 0.0
    assert grade_of(0.9, 10) == "High" and grade_of(0.5, 10) == "Medium" and grade_of(0.1, 10) == "Low"
    assert grade_of(0.9, 2) is None and grade_of(None, 10) is None


def test_punctuation_and_subword_items_stay_unambiguous() -> None:
    label = OfflineLabeller().label(_evidence((",", 30, 31), (".", 20, 22), ("\n", 10, 10), ("ash", 9, 9)))
    assert label.text == '"," or "." or "\\n" or "ash"'
    assert label.text.count('"') == 8  # every item quoted, so a comma token never splits the list


def test_llm_labeller_uses_the_completion_and_scores_literal_tokens() -> None:
    prompts: list[str] = []

    def complete(prompt: str) -> str:
        prompts.append(prompt)
        return "Cat mentions\nextra line"

    ev = _evidence((" cat", 40, 40), (" dog", 2, 50), contexts=[(["The", " cat", " sat"], 1)])
    label = LLMLabeller(complete).label(ev)
    assert label.text == "Cat mentions" and label.token_ids == frozenset({0})
    assert "The[[ cat]] sat" in prompts[0]


def test_llm_labeller_is_off_unless_one_is_passed() -> None:
    with pytest.raises(ConfigError, match="labeller: 'llm' needs an LLM client"):
        pick_labeller(AnalyseConfig(labeller="llm"), None)
    assert isinstance(pick_labeller(AnalyseConfig(), None), OfflineLabeller)
    mine = LLMLabeller(lambda p: "x")
    assert pick_labeller(AnalyseConfig(labeller="llm"), mine) is mine
