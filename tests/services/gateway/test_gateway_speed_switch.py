"""SAELAB_GATEWAY_FAST_PATHS: on, the speed layer serves (fast execution, response cache, memos); off, none of it."""

from __future__ import annotations

import httpx
import pytest
from gateway_support import GraphQL, Seeded, count_statements, make_state, serve_in_thread, use_database
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from services.gateway.app import create_app
from services.gateway.speed.cache import CachedQueries
from services.gateway.speed.execution import FastExecutionContext, MemoNameConverter

PAGE = "query($run: ID!) { features(runId: $run, first: 5) { nodes { index label } } }"


@pytest.mark.parametrize("on", [True, False])
def test_the_setting_switches_the_whole_speed_layer(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch, on: bool
) -> None:
    use_database(monkeypatch, seeded)
    monkeypatch.setenv("SAELAB_GATEWAY_FAST_PATHS", "1" if on else "0")
    state = make_state(seeded, response_cache_s=30)
    assert state.settings.fast_paths is on
    schema = GraphQL(state).schema
    assert schema.execution_context_class is (
        FastExecutionContext if on else StrawberryGraphQLCoreExecutionContext
    )
    assert isinstance(schema.config.name_converter, MemoNameConverter) is on
    assert isinstance(schema.config.name_converter, NameConverter)
    assert state.responses.enabled is on and state.memos.enabled is on
    app = create_app(state=state, start_worker=False)
    assert any(m.cls is CachedQueries for m in app.user_middleware) is on
    uv, thread, port = serve_in_thread(app)
    try:
        post = {"json": {"query": PAGE, "variables": {"run": seeded.run_id}}}
        first = httpx.post(f"http://127.0.0.1:{port}/graphql", **post)
        with count_statements(seeded.url) as statements:
            again = httpx.post(f"http://127.0.0.1:{port}/graphql", **post)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
    assert again.json() == first.json() and first.json()["data"]["features"]["nodes"]
    assert (statements == []) is on, "a repeated page is answered from the cache only with the layer on"
