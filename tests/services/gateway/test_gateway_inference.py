"""Live inference on the tiny GPT-2 with a random SAE: the answers equal a direct forward + encode, the model is
loaded once per run, limits (prompt length, rate, index) give clear errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from gateway_support import (
    CAT,
    DEAD,
    HOOK,
    N_FEATURES,
    GraphQL,
    Seeded,
    feature_record,
    make_state,
    use_database,
)

from services.gateway.errors import Unavailable
from services.gateway.live import LiveModel, ModelCache, load_live_model, run_sae_dir

TEXT = "The cat sat on the mat. It was happy."
ANALYSE = """query($run: ID!, $text: String!, $k: Int) {
  analysePrompt(runId: $run, text: $text, topK: $k) {
    runId tokens { position token l0 maxActivation features { index label activation } } } }"""
TRACE = """query($run: ID!, $i: Int!, $text: String!) {
  featureActivations(runId: $run, index: $i, text: $text) { index tokens activations maxActivation } }"""


class CountingLoader:
    def __init__(self, state: Any) -> None:
        self.state, self.calls = state, 0

    def __call__(self, run_id: str) -> LiveModel:
        self.calls += 1
        return load_live_model(run_sae_dir(run_id, self.state.session_factory, _store(self.state)))


@pytest.fixture(scope="session")
def shared_models() -> ModelCache:
    """One model cache for the tests that do not count loads (loading the tiny GPT-2 takes a second or two)."""
    return ModelCache(2, lambda run_id: None)


def _with_models(state: Any, cache: ModelCache) -> Any:
    cache._loader = lambda run_id: load_live_model(run_sae_dir(run_id, state.session_factory, _store(state)))
    state.models = cache
    return state


def _store(state: Any) -> Any:
    from shared.store import get_store

    return get_store(state.shared)


@pytest.fixture
def live(live_run: Seeded, monkeypatch: pytest.MonkeyPatch) -> tuple[GraphQL, CountingLoader]:
    use_database(monkeypatch, live_run)
    state = make_state(live_run)
    loader = CountingLoader(state)
    state.models = ModelCache(2, loader)
    return GraphQL(state), loader


def _direct(model_dir: Path, sae_dir: Path, text: str) -> tuple[list[str], torch.Tensor]:
    """Reference: the LM up to the hook and the SAE, called directly."""
    from shared.lm import load_lm
    from shared.sae import load_sae

    lm = load_lm(str(model_dir))
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    acts = lm.activations(torch.tensor([[lm.bos_token_id, *ids]]), HOOK)
    with torch.no_grad():
        f = load_sae(sae_dir).encode(acts)[0, 1:]
    return lm.token_strings(ids), f


def test_analyse_prompt_matches_a_direct_forward_and_encode(
    live: tuple[GraphQL, CountingLoader], live_run: Seeded, tiny_gpt2_dir: Path
) -> None:
    gql, _ = live
    out = gql.data(ANALYSE, {"run": live_run.run_id, "text": TEXT, "k": 3})["analysePrompt"]
    tokens, f = _direct(tiny_gpt2_dir, live_run.artifacts / "runs" / live_run.run_id, TEXT)
    assert [t["token"] for t in out["tokens"]] == tokens and tokens[1] == " cat"
    for pos, row in enumerate(out["tokens"]):
        values, indices = torch.topk(f[pos], 3)
        expected = [(int(i), float(v)) for i, v in zip(indices, values, strict=True) if v > 0]
        got = [(x["index"], x["activation"]) for x in row["features"]]
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert [v for _, v in got] == pytest.approx([v for _, v in expected], rel=1e-4, abs=1e-5)
        assert row["l0"] == int((f[pos] > 0).sum())
        assert row["maxActivation"] == pytest.approx(float(f[pos].max()), rel=1e-4)
        for x in row["features"]:
            assert x["label"] == feature_record(x["index"]).label


@pytest.mark.usefixtures("speed_layer_on")  # compares the layer's labels memo with the direct read
def test_analyse_prompt_labels_are_the_same_with_the_response_cache_off(
    live: tuple[GraphQL, CountingLoader], live_run: Seeded
) -> None:
    gql, _ = live
    variables = {"run": live_run.run_id, "text": TEXT, "k": 5}
    cached = gql.data(ANALYSE, variables)["analysePrompt"]  # labels from the run's memo
    assert gql.state.memos.get(("labels", live_run.run_id)) is not None
    uncached_state = make_state(live_run, response_cache_s=0)
    uncached_state.models = gql.state.models
    assert GraphQL(uncached_state).data(ANALYSE, variables)["analysePrompt"] == cached


def test_feature_activations_trace_one_feature(
    live: tuple[GraphQL, CountingLoader], live_run: Seeded, tiny_gpt2_dir: Path
) -> None:
    gql, _ = live
    out = gql.data(TRACE, {"run": live_run.run_id, "i": CAT, "text": TEXT})["featureActivations"]
    tokens, f = _direct(tiny_gpt2_dir, live_run.artifacts / "runs" / live_run.run_id, TEXT)
    assert out["tokens"] == tokens and out["index"] == CAT
    assert out["activations"] == pytest.approx(f[:, CAT].tolist(), rel=1e-4, abs=1e-5)
    assert out["maxActivation"] == pytest.approx(max(f[:, CAT].tolist()), rel=1e-4, abs=1e-5)
    err = gql.error(TRACE, {"run": live_run.run_id, "i": N_FEATURES, "text": TEXT})
    assert err.extensions == {"code": "BAD_INPUT", "field": "index"} and str(N_FEATURES) in err.message


def test_the_model_is_loaded_once_per_run(live: tuple[GraphQL, CountingLoader], live_run: Seeded) -> None:
    gql, loader = live
    for text in ("one", "two words", "three little words"):
        gql.data(TRACE, {"run": live_run.run_id, "i": DEAD, "text": text})
    assert loader.calls == 1


def test_prompt_limits(live_run: Seeded, monkeypatch: pytest.MonkeyPatch, shared_models: ModelCache) -> None:
    use_database(monkeypatch, live_run)
    gql = GraphQL(_with_models(make_state(live_run, max_prompt_tokens=5), shared_models))
    err = gql.error(ANALYSE, {"run": live_run.run_id, "text": TEXT})
    assert err.extensions == {"code": "BAD_INPUT", "field": "text"}
    assert "the limit is 5 tokens" in err.message and "11 tokens" in err.message
    assert gql.error(ANALYSE, {"run": live_run.run_id, "text": "   "}).extensions["field"] == "text"
    assert gql.error(ANALYSE, {"run": live_run.run_id, "text": "x" * 10_000}).extensions["field"] == "text"
    assert gql.error(ANALYSE, {"run": live_run.run_id, "text": "hi", "k": 0}).extensions["field"] == "topK"
    err = gql.error(ANALYSE, {"run": live_run.pending_run_id, "text": "hi"})
    assert err.extensions == {"code": "BAD_INPUT", "field": "runId"} and "no trained SAE" in err.message
    assert gql.error(ANALYSE, {"run": "nope", "text": "hi"}).extensions["code"] == "NOT_FOUND"


def test_live_inference_is_rate_limited_per_client(
    live_run: Seeded, monkeypatch: pytest.MonkeyPatch, shared_models: ModelCache
) -> None:
    use_database(monkeypatch, live_run)
    gql = GraphQL(
        _with_models(make_state(live_run, inference_burst=2, inference_rate_per_minute=1), shared_models)
    )
    variables = {"run": live_run.run_id, "i": 0, "text": "hello"}
    assert gql.data(TRACE, variables) and gql.data(TRACE, variables)
    err = gql.error(TRACE, variables)
    assert err.extensions["code"] == "RATE_LIMITED" and err.extensions["retryAfter"] > 50
    assert gql.run(TRACE, variables, client="someone-else").errors is None


def test_missing_model_files_are_unavailable_without_paths(
    fresh: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, fresh)
    gql = GraphQL(make_state(fresh))
    err = gql.error(TRACE, {"run": fresh.run_id, "i": 0, "text": "hello"})
    assert err.extensions == {"code": "UNAVAILABLE"} and str(fresh.artifacts) not in err.message


def test_model_cache_loads_once_under_concurrency_and_evicts_lru() -> None:
    calls: list[str] = []

    def slow_loader(run_id: str) -> Any:
        calls.append(run_id)
        time.sleep(0.05)
        return object()

    cache = ModelCache(2, slow_loader)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("a"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["a"] and len({id(r) for r in results}) == 1
    cache.get("b")
    cache.get("a")  # a is now the most recent
    cache.get("c")  # evicts b
    assert "a" in cache and "c" in cache and "b" not in cache
    assert cache.loaded("b") is None and calls == ["a", "b", "c"]  # `loaded` never loads
    assert cache.loaded("a") is results[0]  # ... and marks a hit as recent: c is evicted next, not a
    cache.get("d")
    assert "a" in cache and "c" not in cache


def test_model_cache_reports_load_failures_as_unavailable() -> None:
    def broken(run_id: str) -> Any:
        raise FileNotFoundError("/secret/dir/cfg.json")

    with pytest.raises(Unavailable) as err:
        ModelCache(1, broken).get("x")
    assert "/secret" not in str(err.value)


def test_model_loads_freeze_the_heap_and_evicted_models_are_still_collected() -> None:
    import gc
    import weakref

    class Model:  # a reference cycle, as real LMs have: only the cyclic collector frees it
        def __init__(self) -> None:
            self.me = self

    refs: list[weakref.ref[Model]] = []

    def loader(run_id: str) -> Any:
        model = Model()
        refs.append(weakref.ref(model))
        return model

    cache = ModelCache(1, loader)
    cache.get("a")
    assert gc.get_freeze_count() > 0  # the loaded model and everything alive then are out of the GC's scans
    cache.get("b")  # evicts a: the collection after this load must still reclaim its cycle
    assert refs[0]() is None and refs[1]() is not None
