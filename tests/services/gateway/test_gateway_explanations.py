"""Explanations and the dictionary map through GraphQL: the analyser's explanations (method, scores with intervals and
samples), users' own (token required, editable, kept across re-analysis), errors that name the problem, the map."""

from __future__ import annotations

import pytest
from gateway_support import CAT, DEAD, TOKEN, GraphQL, Seeded, make_state, use_database

from shared.db.repositories.analysis import replace_run_analysis
from shared.db.session import session_scope
from shared.explanations import MIN_HELDOUT_FIRINGS

FIELDS = "id text description method model author editable sampleSize sampleUnit scores { name value ciLow ciHigh n unit reason help }"
READ = f"query($run: ID!, $i: Int!) {{ feature(runId: $run, index: $i) {{ explanations {{ {FIELDS} }} }} }}"
ADD = f"mutation($run: ID!, $i: Int!, $t: String!, $d: String) {{ addExplanation(runId: $run, index: $i, text: $t, description: $d) {{ {FIELDS} }} }}"
EDIT = f"mutation($id: ID!, $t: String!) {{ editExplanation(id: $id, text: $t) {{ {FIELDS} }} }}"


@pytest.fixture
def mutable(fresh: Seeded, monkeypatch: pytest.MonkeyPatch) -> GraphQL:
    use_database(monkeypatch, fresh)
    return GraphQL(make_state(fresh))


def _explanations(gql: GraphQL, run: str, i: int) -> list[dict]:
    return gql.data(READ, {"run": run, "i": i})["feature"]["explanations"]


def test_the_analysers_explanation_carries_method_scores_and_sample(gql: GraphQL, seeded: Seeded) -> None:
    (e,) = _explanations(gql, seeded.run_id, CAT)
    assert (e["text"], e["method"], e["model"], e["author"], e["editable"]) == (
        "cat tokens",
        "offline token-list labeller",
        None,
        "analyser",
        False,
    )
    scores = {s["name"]: s for s in e["scores"]}
    assert set(scores) == {"F1", "precision", "recall"}
    # seeded: 3 of 5 predicted, 3 of 7 firings -- 7 < MIN_HELDOUT_FIRINGS, so no values, only the reason
    assert scores["F1"]["value"] is None and str(MIN_HELDOUT_FIRINGS) in scores["F1"]["reason"]
    assert e["sampleSize"] == 7 and e["sampleUnit"] == "held-out firings"
    big = {s["name"]: s for s in _explanations(gql, seeded.run_id, 20)[0]["scores"]}  # 20 of 22, 20 of 41
    assert big["precision"]["value"] == pytest.approx(20 / 22) and big["recall"]["value"] == pytest.approx(
        20 / 41
    )
    assert big["F1"]["ciLow"] < big["F1"]["value"] < big["F1"]["ciHigh"]
    assert "held-out" in big["recall"]["help"] and big["recall"]["n"] == 41
    assert _explanations(gql, seeded.run_id, DEAD) == []


def test_users_add_and_edit_their_own_with_the_token(mutable: GraphQL, fresh: Seeded) -> None:
    variables = {"run": fresh.run_id, "i": CAT, "t": "the word cat, any case", "d": None}
    for token in (None, "wrong"):
        assert mutable.error(ADD, variables, token=token).extensions["code"] == "UNAUTHENTICATED"
    added = mutable.data(ADD, variables, token=TOKEN)["addExplanation"]
    assert (added["method"], added["author"], added["editable"], added["scores"]) == (
        "human",
        "user",
        True,
        [],
    )
    edited = mutable.data(EDIT, {"id": added["id"], "t": "  cats  and kittens "}, token=TOKEN)[
        "editExplanation"
    ]
    assert edited["text"] == "cats and kittens"
    assert (
        mutable.error(EDIT, {"id": added["id"], "t": "x"}, token=None).extensions["code"] == "UNAUTHENTICATED"
    )
    texts = [e["text"] for e in _explanations(mutable, fresh.run_id, CAT)]
    assert texts == ["cat tokens", "cats and kittens"]


def test_user_explanations_survive_reanalysis_and_the_analysers_are_replaced(
    mutable: GraphQL, fresh: Seeded
) -> None:
    from gateway_support import feature_record

    mutable.data(ADD, {"run": fresh.run_id, "i": CAT, "t": "mine", "d": "kept"}, token=TOKEN)
    with session_scope() as s:
        replace_run_analysis(
            s,
            fresh.run_id,
            features=[feature_record(i) for i in range(DEAD + 1)],
            examples=[],
            token_index=[],
        )
    found = [(e["author"], e["text"]) for e in _explanations(GraphQL(make_state(fresh)), fresh.run_id, CAT)]
    assert sorted(found) == [("analyser", "cat tokens"), ("user", "mine")]


def test_explanation_errors_name_the_problem(mutable: GraphQL, fresh: Seeded) -> None:
    err = mutable.error(ADD, {"run": fresh.run_id, "i": CAT, "t": "   "}, token=TOKEN)
    assert err.extensions == {"code": "BAD_INPUT", "field": "text"}
    err = mutable.error(ADD, {"run": fresh.run_id, "i": 999, "t": "x"}, token=TOKEN)
    assert err.extensions["code"] == "NOT_FOUND" and "999" in err.message
    (auto,) = _explanations(mutable, fresh.run_id, CAT)
    err = mutable.error(EDIT, {"id": auto["id"], "t": "mine now"}, token=TOKEN)
    assert err.extensions["code"] == "BAD_INPUT" and "add your own" in err.message
    err = mutable.error(EDIT, {"id": "abc", "t": "x"}, token=TOKEN)
    assert err.extensions == {"code": "BAD_INPUT", "field": "id"}
    assert mutable.error(EDIT, {"id": "98765", "t": "x"}, token=TOKEN).extensions["code"] == "NOT_FOUND"


MAP = "query($run: ID!) { featureMap(runId: $run) { index x y density dead dense label } }"


def test_the_dictionary_map_lists_every_mapped_feature(gql: GraphQL, seeded: Seeded) -> None:
    points = gql.data(MAP, {"run": seeded.run_id})["featureMap"]
    assert [p["index"] for p in points] == list(range(DEAD + 1))
    cat = points[CAT]
    assert (cat["x"], cat["label"], cat["dead"]) == (pytest.approx(CAT / DEAD), "cat tokens", False)
    assert points[DEAD]["dead"] is True and points[DEAD]["density"] == 0
    assert gql.error(MAP, {"run": "nope"}).extensions["code"] == "NOT_FOUND"
