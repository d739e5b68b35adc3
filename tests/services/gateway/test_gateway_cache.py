"""The response cache: repeated feature queries skip the database; relabels and finished analyses clear it;
live data (jobs, runs, prompt inference) and errors are never cached."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from gateway_support import CAT, TOKEN, GraphQL, Seeded, Server, count_statements

from shared.jobs import events

pytestmark = pytest.mark.usefixtures("speed_layer_on")  # these test the speed layer itself

PAGE = "query($run: ID!) { features(runId: $run, first: 5) { nodes { index label } } }"


def _post(server: Server, query: str, variables: dict | None = None, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables}, headers=headers)


def test_repeated_feature_queries_are_served_without_sql(server: Server, seeded: Seeded) -> None:
    first = _post(server, PAGE, {"run": seeded.run_id})
    with count_statements(seeded.url) as statements:
        again = _post(server, PAGE, {"run": seeded.run_id})
    assert again.status_code == 200 and again.content == first.content and statements == []
    assert again.headers["content-type"] == "application/json"
    assert again.json()["data"]["features"]["nodes"][CAT]["label"] == "cat tokens"
    with count_statements(seeded.url) as statements:
        _post(
            server,
            "query($run: ID!) { features(runId: $run, first: 6) { nodes { index } } }",
            {"run": seeded.run_id},
        )
    assert statements, "other variables are another entry"
    with count_statements(seeded.url) as statements:  # same variables in another key order: the same entry
        _post(server, PAGE, {"run": seeded.run_id})
    assert statements == []


def test_cached_answers_keep_cors_and_are_per_authentication(server: Server, seeded: Seeded) -> None:
    origin = "http://localhost:5173"  # the dev server origin allowed by default
    for _ in range(2):
        answer = _post(server, PAGE, {"run": seeded.run_id}, Origin=origin)
        assert answer.headers["access-control-allow-origin"] == origin
    assert len(server.state.responses) == 1
    with count_statements(seeded.url) as statements:
        _post(server, PAGE, {"run": seeded.run_id}, Authorization=f"Bearer {TOKEN}")
    assert statements, "an authenticated caller gets its own entry"
    assert len(server.state.responses) == 2


def test_live_data_errors_and_mutations_are_not_cached(server: Server, seeded: Seeded) -> None:
    for query in ("{ runs { id status } }", "{ jobs { id status } }"):
        _post(server, query)
        with count_statements(seeded.url) as statements:
            _post(server, query)
        assert statements, query
    for _ in range(2):
        unknown = _post(server, '{ features(runId: "nope") { totalCount } }')
        assert unknown.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    not_json = httpx.post(
        f"{server.url}/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert len(server.state.responses) == 0


def test_a_large_request_body_passes_through_the_cache_intact(server: Server, seeded: Seeded) -> None:
    from services.gateway.speed.cache import MAX_CACHED_REQUEST_BYTES

    padding = " " * (
        MAX_CACHED_REQUEST_BYTES + 10
    )  # insignificant JSON whitespace: the same request, only longer
    body = json.dumps({"query": PAGE, "variables": {"run": seeded.run_id}}) + padding
    answer = httpx.post(f"{server.url}/graphql", content=body, headers={"Content-Type": "application/json"})
    assert answer.json()["data"]["features"]["nodes"][CAT]["label"] == "cat tokens"
    assert len(server.state.responses) == 0


def test_relabel_clears_the_cache(fresh: Seeded, monkeypatch) -> None:  # noqa: ANN001
    from gateway_support import make_state, serve_in_thread, use_database

    from services.gateway.app import create_app

    use_database(monkeypatch, fresh)
    state = make_state(fresh)
    uv, thread, port = serve_in_thread(create_app(state=state, start_worker=False))
    try:
        server = Server(f"http://127.0.0.1:{port}", "", state)
        assert _post(server, PAGE, {"run": fresh.run_id}).json()["data"]["features"]["nodes"][CAT][
            "label"
        ] == ("cat tokens")
        relabel = 'mutation($r: ID!) { relabelFeature(runId: $r, index: 3, label: "moggies") { label } }'
        assert _post(server, relabel, {"r": fresh.run_id}, Authorization=f"Bearer {TOKEN}").json()["data"]
        assert _post(server, PAGE, {"run": fresh.run_id}).json()["data"]["features"]["nodes"][CAT][
            "label"
        ] == ("moggies")
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("kind", ["analyse", "explain"])
def test_a_finished_analysis_or_explainer_clears_the_cache_of_a_running_server(
    server: Server, seeded: Seeded, kind: str
) -> None:
    """Both write what the feature queries answer (features; explanations); a finished training does not."""
    server.state.analysis_changed()
    response = httpx.post(f"{server.url}/graphql", json={"query": PAGE, "variables": {"run": seeded.run_id}})
    assert response.json()["data"] and len(server.state.responses) == 1
    channel = events.JOBS_CHANNEL
    bus = events.get_bus()
    deadline = time.monotonic() + 10
    while bus.subscriber_count(channel) == 0:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    events.publish_job(events.JobEvent(job_id="j", kind=kind, status="running", progress=0.5))
    events.publish_job(events.JobEvent(job_id="t", kind="train", status="succeeded", progress=1.0))
    time.sleep(0.2)
    assert len(server.state.responses) == 1  # progress, or another kind's result, is not a new feature result
    events.publish_job(events.JobEvent(job_id="j", kind=kind, status="succeeded", progress=1.0))
    while len(server.state.responses):
        assert time.monotonic() < deadline, "the cache was not cleared"
        time.sleep(0.01)


ORDERED = """query($run: ID!, $sort: FeatureSort!, $order: SortOrder!, $page: Int!) {
  features(runId: $run, first: 4, page: $page, sort: $sort, order: $order) { totalCount nodes { index label } }
}"""


def test_explorer_pages_from_the_cached_order_match_the_database_order(
    seeded: Seeded,
    monkeypatch,  # noqa: ANN001
) -> None:
    from gateway_support import make_state, use_database

    use_database(monkeypatch, seeded)
    cached, uncached = GraphQL(make_state(seeded)), GraphQL(make_state(seeded, response_cache_s=0))
    total = None
    for sort in ("INDEX", "DENSITY", "MAX_ACTIVATION", "LABEL_SCORE"):
        for order in ("ASC", "DESC"):
            for page in (1, 2, 3, 50):
                variables = {"run": seeded.run_id, "sort": sort, "order": order, "page": page}
                got = cached.data(ORDERED, variables)["features"]
                assert got == uncached.data(ORDERED, variables)["features"], variables
                total = got["totalCount"]
    assert total and total > 8
    # a page of an already browsed order: one lookup of its rows, no ORDER BY over the run and no COUNT
    with count_statements(seeded.url) as statements:
        cached.data(ORDERED, {"run": seeded.run_id, "sort": "DENSITY", "order": "DESC", "page": 4})
    assert len(statements) == 1 and "ORDER BY" not in statements[0].upper(), statements
    assert "count(" not in statements[0].lower()


def test_a_relabel_reorders_nothing_but_shows_at_once_on_cached_order_pages(
    fresh: Seeded,
    monkeypatch,  # noqa: ANN001
) -> None:
    from gateway_support import make_state, use_database

    use_database(monkeypatch, fresh)
    gql = GraphQL(make_state(fresh))
    variables = {"run": fresh.run_id, "sort": "INDEX", "order": "ASC", "page": 1}
    assert gql.data(ORDERED, variables)["features"]["nodes"][CAT]["label"] == "cat tokens"
    relabel = 'mutation($r: ID!) { relabelFeature(runId: $r, index: 3, label: "moggies") { label } }'
    gql.data(relabel, {"r": fresh.run_id}, token=TOKEN)
    assert gql.data(ORDERED, variables)["features"]["nodes"][CAT]["label"] == "moggies"
    unknown = gql.error('{ features(runId: "no-such-run", sort: DENSITY) { totalCount } }')
    assert unknown.extensions["code"] == "NOT_FOUND" and "no-such-run" in unknown.message


def test_per_run_memos_share_the_response_cache_ttl_and_clearing(
    seeded: Seeded,
    monkeypatch,  # noqa: ANN001
) -> None:
    from gateway_support import make_state, use_database

    from services.gateway.speed.memos import RunMemos

    use_database(monkeypatch, seeded)
    state = make_state(seeded, response_cache_s=30)
    assert state.memos.ttl_s == state.responses.ttl_s == 30
    state.memos.put(("labels", "r1"), {1: "cat"})
    state.responses.put(("q", b"{}", None, False), b"{}")
    assert state.memos.get(("labels", "r1")) == {1: "cat"} and state.memos.get(("labels", "r2")) is None
    state.analysis_changed()  # what a relabel and a finished analysis do
    assert state.memos.get(("labels", "r1")) is None and len(state.responses) == 0
    expired = RunMemos(ttl_s=0.01)
    expired.put(("order", "r1", "index", False), (0, 1))
    time.sleep(0.02)
    assert expired.get(("order", "r1", "index", False)) is None
    off = RunMemos(ttl_s=0)
    off.put(("labels", "r1"), {})
    assert off.get(("labels", "r1")) is None and len(off) == 0
