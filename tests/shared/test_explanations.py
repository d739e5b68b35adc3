"""Named explanation scores: Wilson intervals, precision / recall / F1 of a token rule, the small-sample rule,
and token quoting that keeps list items unambiguous."""

from __future__ import annotations

import pytest

from shared.explanations import MIN_HELDOUT_FIRINGS, quote_token, token_rule_scores, wilson


def test_wilson_matches_the_textbook_interval() -> None:
    # Wilson 95 % (z = 1.96) for 8 of 10 is [0.490, 0.943] (Newcombe 1998, table I).
    lo, hi = wilson(8, 10, z=1.959964)
    assert lo == pytest.approx(0.4902, abs=5e-4) and hi == pytest.approx(0.9433, abs=5e-4)
    lo, hi = wilson(0, 20)
    assert lo == 0.0 and 0 < hi < 0.3
    with pytest.raises(ValueError, match="successes <= n"):
        wilson(3, 2)


def test_token_rule_scores_name_their_sample_and_bound_f1() -> None:
    scores = {s.name: s for s in token_rule_scores(true_pos=40, predicted=50, firings=80)}
    p, r, f = scores["precision"], scores["recall"], scores["F1"]
    assert p.value == pytest.approx(0.8) and r.value == pytest.approx(0.5)
    assert f.value == pytest.approx(2 * 40 / (50 + 80))
    assert (p.n, r.n, f.n) == (50, 80, 80) and f.unit == "held-out firings"
    for s in (p, r, f):
        assert s.ci_low < s.value < s.ci_high and s.reason is None
    # F1's interval is F1 of the bounds: wider than neither precision's nor recall's would allow
    assert f.ci_low == pytest.approx(2 * p.ci_low * r.ci_low / (p.ci_low + r.ci_low))
    assert f.ci_high == pytest.approx(2 * p.ci_high * r.ci_high / (p.ci_high + r.ci_high))


def test_a_small_sample_gets_no_score_only_a_reason() -> None:
    scores = token_rule_scores(true_pos=3, predicted=3, firings=MIN_HELDOUT_FIRINGS - 1)
    assert all(s.value is None and s.ci_low is None for s in scores)
    assert f"{MIN_HELDOUT_FIRINGS} needed" in scores[0].reason
    assert token_rule_scores(true_pos=3, predicted=3, firings=MIN_HELDOUT_FIRINGS)[0].value is not None


def test_rule_tokens_absent_from_held_out_give_no_precision() -> None:
    scores = {s.name: s for s in token_rule_scores(true_pos=0, predicted=0, firings=30)}
    assert scores["precision"].value is None and "never occur" in scores["precision"].reason
    assert scores["recall"].value == 0.0 and scores["F1"].value == 0.0


def test_quoted_tokens_show_whitespace_and_never_split_a_list() -> None:
    assert quote_token(" ash") == '"␣ash"' and quote_token("ash") == '"ash"'
    assert quote_token("\n") == '"\\n"' and quote_token(",") == '","' and quote_token('"') == '"\\""'
    assert quote_token("  ") == '"␣␣"'
