"""The LLM explainer through GraphQL: the estimate before anything runs, the job's fences (token, bounds, an
analysed run, a configured endpoint), and the whole path against a real local model: SmolLM2-135M-Instruct behind
the OpenAI-compatible test server -> chat client -> explain -> detection and fuzzing -> rows -> the feature's
explanations in GraphQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import DEAD, TOKEN, GraphQL, Recorder, Seeded, make_state, use_database
from support.chat_server import MODEL_ID, ChatServer, SmolChat
from support.configs import tiny_configs

from shared.explain.config import ExplainConfig, estimate
from shared.explain.prompts import parse_explanation
from shared.jobs.contracts import EXPLAIN

ESTIMATE = """query($run: ID!, $o: JSON, $s: Float!) { explainEstimate(runId: $run, options: $o, secondsPerCall: $s) {
  features llmCalls promptTokens maxCompletionTokens seconds secondsPerCall method model configured } }"""
SUBMIT = (
    "mutation($run: ID!, $o: JSON) { explainFeatures(runId: $run, options: $o) { id kind status runId } }"
)
READ = """query($run: ID!, $i: Int!) { feature(runId: $run, index: $i) { explanations {
  text description method model author editable sampleSize sampleUnit scores { name value ciLow ciHigh n unit reason help }
} } }"""


def _gql(db: Seeded, monkeypatch: pytest.MonkeyPatch, configured: bool) -> GraphQL:
    use_database(monkeypatch, db)
    if configured:
        monkeypatch.setenv("SAELAB_EXPLAINER_BASE_URL", "http://127.0.0.1:9/v1")
        monkeypatch.setenv("SAELAB_EXPLAINER_MODEL", "some-model")
        monkeypatch.setenv("SAELAB_EXPLAINER_API_KEY", "sk-never-shown")
    return GraphQL(make_state(db))


def test_the_estimate_counts_calls_tokens_and_time_before_anything_runs(
    fresh: Seeded, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    gql = _gql(fresh, monkeypatch, configured=True)
    opts = {"features": [1, 2, 3, DEAD], "n_test": 6, "per_prompt": 4}
    est = gql.data(ESTIMATE, {"run": fresh.run_id, "o": opts, "s": 3.0})["explainEstimate"]
    per_feature = 1 + 2 * math.ceil(12 / 4)
    assert est["features"] == 3  # the dead feature has nothing to explain
    assert est["llmCalls"] == 3 * per_feature and est["seconds"] == pytest.approx(3 * per_feature * 3.0)
    window = 12 + 1 + 4  # the seeded run's analysis ran with the default window
    assert est["promptTokens"] == estimate(ExplainConfig(**opts), 3, window).prompt_tokens
    assert (est["method"], est["model"], est["configured"]) == ("llm-delphi", "some-model", True)
    assert "sk-never-shown" not in str(est) and recorder.sent == []


def test_a_private_server_answers_the_estimate_only_with_the_token(
    fresh: Seeded, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    """The estimate reads the run's analysis (its window, which features fired): private as the run's other reads."""
    use_database(monkeypatch, fresh)
    gql = GraphQL(make_state(fresh, public_queries=False))
    variables = {"run": fresh.run_id, "o": {"features": [1, 2]}, "s": 2.0}
    err = gql.error(ESTIMATE, variables)
    assert err.extensions["code"] == "UNAUTHENTICATED" and "API token" in err.message
    assert gql.data(ESTIMATE, variables, token=TOKEN)["explainEstimate"]["features"] == 2


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"n_test": 1000}, "options.n_test", "less than or equal to 100"),
        ({"features": list(range(10_001))}, "options.features", "at most 10000"),
        ({"features": [-1]}, "options.features", ">= 0"),
        ({"temperature": 1}, "options.temperature", "unknown key"),
        ({"features": [DEAD]}, "options", "none of these features fired"),
    ],
)
def test_submissions_are_bounded_and_name_the_bad_key(
    fresh: Seeded, monkeypatch: pytest.MonkeyPatch, recorder: Recorder, options: dict, field: str, words: str
) -> None:
    err = _gql(fresh, monkeypatch, configured=True).error(SUBMIT, {"run": fresh.run_id, "o": options}, TOKEN)
    assert err.extensions["code"] == "BAD_INPUT" and err.extensions["field"] == field, err.extensions
    assert words in err.message and recorder.sent == []


def test_a_submission_needs_the_token_an_analysed_run_and_an_endpoint(
    fresh: Seeded, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    variables = {"run": fresh.run_id, "o": {"features": [1, 2]}}
    bare = _gql(fresh, monkeypatch, configured=False)
    assert bare.error(SUBMIT, variables).extensions["code"] == "UNAUTHENTICATED"
    err = bare.error(SUBMIT, variables, TOKEN)
    assert err.extensions["code"] == "BAD_INPUT" and "SAELAB_EXPLAINER_BASE_URL" in err.message
    pending = bare.error(SUBMIT, {"run": fresh.pending_run_id, "o": None}, TOKEN)
    assert "not analysed" in pending.message
    job = _gql(fresh, monkeypatch, configured=True).data(SUBMIT, variables, TOKEN)["explainFeatures"]
    assert (job["kind"], job["runId"]) == ("PIPELINE", fresh.run_id)
    ((name, payload),) = recorder.sent
    assert name == EXPLAIN and payload["run_id"] == fresh.run_id


# --------------------------------------------------------------------------------------------------------------
# The whole path against the real local model
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_server() -> Iterator[ChatServer]:
    with ChatServer(SmolChat(cap=32)) as server:
        yield server


@pytest.mark.slow
def test_the_whole_path_against_a_real_local_model(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tiny_gpt2_dir: Path,
    small_corpus: Path,
    chat_server: ChatServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from support.fixtures import use_settings

    from shared.db.repositories.llm_explanations import feature_windows, live_features
    from shared.db.session import session_scope
    from shared.explain.explainer import split_windows
    from shared.explain.prompts import Example
    from shared.jobs import embedded

    db = Seeded(f"sqlite:///{tmp_path / 'saelab.db'}", tmp_path / "artifacts", "", "", "", "", [], "")
    use_settings(
        monkeypatch,
        database_url=db.url,
        artifacts_dir=db.artifacts,
        api_token=TOKEN,
        broker_url="",
        s3_endpoint="",
        progress_interval=0,
        explainer_base_url=chat_server.base_url,
        explainer_model=MODEL_ID,
    )
    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus)
    analyse |= {"top_k": 10, "n_quantiles": 3, "heldout_every": 2}
    try:
        sub = embedded.submit_pipeline(collect, train, analyse, evaluate=False)
        jobs = embedded.wait_for_pipeline(sub.pipeline_id, timeout=600)
        assert [j.status for j in jobs] == ["succeeded"] * 3, [j.error for j in jobs]
        run_id = str(sub.run_id)
        with session_scope() as s:  # the feature with the most windows on both sides of the held-out split

            def sides(i: int) -> int:
                w = [(x.context, Example(x.tokens, x.activations)) for x in feature_windows(s, run_id, i)]
                train_w, test_w = split_windows(w, 2)
                return min(len(train_w), len(test_w))

            feature = max(live_features(s, run_id), key=sides)
            assert sides(feature) >= 3
        gql = GraphQL(make_state(db))
        opts = {
            "features": [feature],
            "n_explain": 5,
            "n_test": 3,
            "per_prompt": 6,
            "explain_max_tokens": 32,
            "score_max_tokens": 24,
            "scan_contexts": 16,
        }
        est = gql.data(ESTIMATE, {"run": run_id, "o": opts, "s": 2.0})["explainEstimate"]
        assert (est["features"], est["llmCalls"], est["model"]) == (1, 3, MODEL_ID)

        # the CLI prints the same estimate and runs nothing without --yes
        from cli.main import main as saelab

        n0 = len(chat_server.calls)
        argv = ["explain", "--run", run_id, "--features", str(feature), "--n-explain", "5", "--n-test", "3"]
        assert saelab([*argv, "--per-prompt", "6", "--dry-run"]) == 0
        printed = capsys.readouterr().out
        assert f"explain 1 features of run {run_id} with {MODEL_ID} (llm-delphi): 3 LLM calls" in printed
        assert saelab([*argv, "--per-prompt", "6"]) == 2  # stdin is no terminal here
        assert "pass --yes" in capsys.readouterr().err and len(chat_server.calls) == n0

        before = len(chat_server.calls)
        job = gql.data(SUBMIT, {"run": run_id, "o": opts}, TOKEN)["explainFeatures"]
        (done,) = embedded.wait_for_pipeline(job["id"], timeout=900)
    finally:
        embedded.stop_worker()
    assert done.status == "succeeded", done.error
    calls = chat_server.calls[before:]
    assert len(calls) == est["llmCalls"] and done.progress == 1.0
    assert done.message.startswith(f"explained 1 features with {MODEL_ID} in 3 LLM calls")
    # what the model saw: marked top examples, then 3 + 3 held-out contexts to detect, then 6 to judge the marks of
    assert "<<" in calls[0]["messages"][-1]["content"]
    assert (
        "Example 5:" in calls[1]["messages"][-1]["content"]
        and "<<" not in calls[1]["messages"][-1]["content"]
    )
    assert calls[2]["messages"][-1]["content"].count("<<") >= 6

    (row,) = [
        e for e in gql.data(READ, {"run": run_id, "i": feature})["feature"]["explanations"] if e["model"]
    ]
    assert (row["method"], row["model"], row["author"], row["editable"]) == (
        "llm-delphi",
        MODEL_ID,
        "explainer",
        False,
    )
    assert row["text"] == parse_explanation(calls[0]["answer"])  # however weak, it is the model's own
    scores = {s["name"]: s for s in row["scores"]}
    assert set(scores) == {"detection", "fuzzing"}
    for s in scores.values():
        assert s["unit"] == "held-out contexts answered" and 0 <= s["n"] <= 6 and "Delphi" in s["help"]
        assert (s["value"] is None) == (s["reason"] is not None)
        if s["value"] is not None:
            assert s["ciLow"] <= s["value"] <= s["ciHigh"]
    assert row["sampleSize"] == scores["detection"]["n"]
