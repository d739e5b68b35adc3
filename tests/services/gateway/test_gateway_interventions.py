"""``steer`` and ``attribute`` through the gateway on the tiny GPT-2 with a random SAE: the answers equal the
library called directly on the same model, and bad requests (bounds, unknown and dead features, rate) get clear
codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gateway_support import CAT, DEAD, N_FEATURES, GraphQL, Seeded, feature_record, make_state, use_database

from services.gateway.live import ModelCache, load_live_model, run_sae_dir

PROMPT = "The cat sat on the mat. It was"
STEER = """query($run: ID!, $prompt: String!, $ivs: [InterventionInput!]!, $n: Int! = 6, $t: Float! = 0,
  $seed: Int! = 0) {
  steer(runId: $run, prompt: $prompt, interventions: $ivs, maxNewTokens: $n, temperature: $t, seed: $seed) {
    runId promptTokens baselineText steeredText
    steps { position kl changed baseline { tokenId token probability } steered { tokenId token probability }
            baselineTop { tokenId probability } steeredTop { tokenId token probability } } } }"""
ATTRIBUTE = """query($run: ID!, $prompt: String!, $target: String, $position: Int) {
  attribute(runId: $run, prompt: $prompt, target: $target, position: $position, topK: 3) {
    runId position target targetId logit probability
    tokens { position token positive { index label activation attribution } negative { index attribution } }
    check { position predictedChange actualChange agrees feature { index label activation attribution } } } }"""


@pytest.fixture(scope="session")
def steer_run(live_run: Seeded) -> Seeded:
    """The seeded run with the same random SAE as the live-inference tests."""
    return live_run


@pytest.fixture(scope="session")
def models() -> ModelCache:
    return ModelCache(2, lambda run_id: None)


def _gql(run: Seeded, monkeypatch: pytest.MonkeyPatch, models: ModelCache, **settings: Any) -> GraphQL:
    from shared.store import get_store

    use_database(monkeypatch, run)
    state = make_state(run, **settings)
    models._loader = lambda run_id: load_live_model(
        run_sae_dir(run_id, state.session_factory, get_store(state.shared))
    )
    state.models = models
    return GraphQL(state)


@pytest.fixture
def gql(steer_run: Seeded, monkeypatch: pytest.MonkeyPatch, models: ModelCache) -> GraphQL:
    return _gql(steer_run, monkeypatch, models)


@pytest.fixture(scope="session")
def direct(steer_run: Seeded, tiny_gpt2_dir: Path) -> tuple[Any, Any, list[int]]:
    """The LM, the SAE and the prompt's ids, loaded directly (the reference)."""
    from shared.lm import load_lm
    from shared.sae import load_sae

    lm = load_lm(str(tiny_gpt2_dir))
    sae = load_sae(steer_run.artifacts / "runs" / steer_run.run_id).eval()
    return lm, sae, lm.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]


def test_steer_equals_the_library_on_the_same_model(
    gql: GraphQL, steer_run: Seeded, direct: tuple[Any, Any, list[int]]
) -> None:
    from shared.interventions import Intervention, Positions, steer

    lm, sae, ids = direct
    ivs = [
        {"feature": CAT, "kind": "STEER", "value": 8.0},
        {"feature": 2, "kind": "CLAMP", "value": 3.0, "start": 4},
        {"feature": 4, "kind": "ABLATE", "positions": [1, 9]},
    ]
    out = gql.data(STEER, {"run": steer_run.run_id, "prompt": PROMPT, "ivs": ivs, "t": 0.8, "seed": 3})[
        "steer"
    ]
    ref = steer(
        lm, sae, ids,
        [Intervention(CAT, "steer", 8.0), Intervention(2, "clamp", 3.0, Positions.starting(4)),
         Intervention(4, "ablate", positions=Positions.at(1, 9))],
        6, 0.8, 3,
    )  # fmt: skip
    assert out["runId"] == steer_run.run_id and out["promptTokens"] == ref.prompt_tokens
    assert (out["baselineText"], out["steeredText"]) == (ref.baseline_text, ref.steered_text)
    assert out["baselineText"] != out["steeredText"]
    for got, want in zip(out["steps"], ref.steps, strict=True):
        assert got["position"] == want.position and got["kl"] == pytest.approx(want.kl, rel=1e-5, abs=1e-7)
        assert got["steered"]["tokenId"] == want.steered.token_id
        assert [t["tokenId"] for t in got["steeredTop"]] == [t.token_id for t in want.steered_top]
        assert got["changed"] == (got["baseline"]["tokenId"] != got["steered"]["tokenId"])
    assert any(s["changed"] for s in out["steps"])


def test_steer_with_no_interventions_is_the_clean_model_twice(gql: GraphQL, steer_run: Seeded) -> None:
    out = gql.data(STEER, {"run": steer_run.run_id, "prompt": PROMPT, "ivs": [], "n": 4})["steer"]
    assert out["baselineText"] == out["steeredText"] and len(out["steps"]) == 4
    assert all(s["kl"] == 0 and not s["changed"] for s in out["steps"])


def test_attribute_equals_the_library_and_labels_its_features(
    gql: GraphQL, steer_run: Seeded, direct: tuple[Any, Any, list[int]]
) -> None:
    from shared.interventions import attribute

    lm, sae, ids = direct
    out = gql.data(ATTRIBUTE, {"run": steer_run.run_id, "prompt": PROMPT, "target": " dog", "position": 5})[
        "attribute"
    ]
    dog = lm.tokenizer(" dog", add_special_tokens=False)["input_ids"][0]
    ref = attribute(lm, sae, ids, dog, 5, top_k=3)
    assert (out["target"], out["targetId"], out["position"]) == (" dog", dog, 5) and len(out["tokens"]) == 6
    assert out["logit"] == pytest.approx(ref.logit, rel=1e-5)
    for row, positive in zip(out["tokens"], ref.positive, strict=True):
        assert [a["index"] for a in row["positive"]] == [a.feature for a in positive]
        assert [a["attribution"] for a in row["positive"]] == pytest.approx(
            [a.attribution for a in positive], rel=1e-4
        )
        assert all(a["label"] == feature_record(a["index"]).label for a in row["positive"])
    check = out["check"]
    assert (check["position"], check["feature"]["index"]) == (ref.check_position, ref.check_feature)
    assert check["predictedChange"] == pytest.approx(-check["feature"]["attribution"])
    assert check["actualChange"] == pytest.approx(ref.actual_change, rel=1e-4, abs=1e-6)
    assert check["agrees"] == ((check["predictedChange"] > 0) == (check["actualChange"] > 0))
    default = gql.data(ATTRIBUTE, {"run": steer_run.run_id, "prompt": PROMPT})["attribute"]
    assert default["position"] == len(ids) - 1 and default["targetId"] == attribute(lm, sae, ids).target_id


@pytest.mark.parametrize(
    ("variables", "code", "field", "words"),
    [
        ({"n": 65}, "BAD_INPUT", "maxNewTokens", "between 1 and 64"),
        ({"n": 0}, "BAD_INPUT", "maxNewTokens", "between 1 and 64"),
        ({"ivs": [{"feature": 1, "value": 1.0}] * 17}, "BAD_INPUT", "interventions", "at most 16"),
        ({"ivs": [{"feature": 1, "value": 1e9}]}, "BAD_INPUT", "interventions[0]", "finite number within"),
        ({"t": -0.5}, "BAD_INPUT", "temperature", "between 0 and 2"),
        ({"t": 2.5}, "BAD_INPUT", "temperature", "between 0 and 2"),
        (
            {"ivs": [{"feature": 1, "start": 2, "positions": [3]}]},
            "BAD_INPUT",
            "interventions[0]",
            "not both",
        ),
        ({"ivs": [{"feature": 1, "positions": [-1]}]}, "BAD_INPUT", "interventions[0]", "between 0 and"),
        (
            {"ivs": [{"feature": 1}, {"feature": N_FEATURES}]},
            "UNKNOWN_FEATURE",
            "interventions[1]",
            "does not exist",
        ),
        ({"ivs": [{"feature": DEAD, "kind": "ABLATE"}]}, "DEAD_FEATURE", "interventions[0]", "is dead"),
        ({"prompt": "   "}, "BAD_INPUT", "prompt", "the prompt is empty"),
        ({"prompt": "x" * 20_000}, "BAD_INPUT", "prompt", "longer than"),
    ],
)
def test_steer_bounds_and_feature_errors(
    gql: GraphQL, steer_run: Seeded, variables: dict[str, Any], code: str, field: str, words: str
) -> None:
    err = gql.error(STEER, {"run": steer_run.run_id, "prompt": PROMPT, "ivs": [], **variables})
    assert err.extensions["code"] == code and err.extensions.get("field") == field and words in err.message
    if code in ("UNKNOWN_FEATURE", "DEAD_FEATURE"):
        assert err.extensions["feature"] == variables["ivs"][-1]["feature"]


def test_attribute_bad_targets_and_positions(gql: GraphQL, steer_run: Seeded) -> None:
    run = steer_run.run_id
    err = gql.error(ATTRIBUTE, {"run": run, "prompt": PROMPT, "target": " elephantine"})
    assert (
        err.extensions == {"code": "BAD_INPUT", "field": "target"} and "name exactly one token" in err.message
    )
    err = gql.error(ATTRIBUTE, {"run": run, "prompt": PROMPT, "position": 9})
    assert err.extensions == {"code": "BAD_INPUT", "field": "position"} and "between 0 and 8" in err.message
    assert gql.error(ATTRIBUTE, {"run": run, "prompt": ""}).extensions == {
        "code": "BAD_INPUT",
        "field": "prompt",
    }
    assert gql.error(ATTRIBUTE, {"run": "nope", "prompt": PROMPT}).extensions["code"] == "NOT_FOUND"


def test_prompt_length_limit_and_rate_limit_apply(
    steer_run: Seeded, monkeypatch: pytest.MonkeyPatch, models: ModelCache
) -> None:
    gql = _gql(
        steer_run, monkeypatch, models, max_prompt_tokens=5, inference_burst=2, inference_rate_per_minute=1
    )
    err = gql.error(STEER, {"run": steer_run.run_id, "prompt": PROMPT, "ivs": []})
    assert (
        err.extensions == {"code": "BAD_INPUT", "field": "prompt"} and "the limit is 5 tokens" in err.message
    )
    assert gql.data(ATTRIBUTE, {"run": steer_run.run_id, "prompt": "The cat"})
    err = gql.error(STEER, {"run": steer_run.run_id, "prompt": "The cat", "ivs": []})
    assert err.extensions["code"] == "RATE_LIMITED"
