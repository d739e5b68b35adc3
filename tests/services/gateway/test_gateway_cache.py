"""The response cache: repeated feature queries skip the database; relabels and finished analyses clear it;
live data (jobs, runs, prompt inference) and errors are never cached."""

from __future__ import annotations

import time

import httpx
from gateway_support import CAT, TOKEN, GraphQL, Seeded, Server, count_statements

from shared import events

PAGE = "query($run: ID!) { features(runId: $run, first: 5) { nodes { index label } } }"


def test_repeated_feature_queries_are_served_without_sql(gql: GraphQL, seeded: Seeded) -> None:
    first = gql.data(PAGE, {"run": seeded.run_id})
    with count_statements(seeded.url) as statements:
        again = gql.data(PAGE, {"run": seeded.run_id})
    assert again == first and statements == []
    with count_statements(seeded.url) as statements:
        gql.data(
            "query($run: ID!) { features(runId: $run, first: 6) { nodes { index } } }", {"run": seeded.run_id}
        )
    assert statements, "other variables are another entry"


def test_live_data_and_errors_are_not_cached(gql: GraphQL, seeded: Seeded) -> None:
    for query in ("{ runs { id status } }", "{ jobs { id status } }"):
        gql.data(query)
        with count_statements(seeded.url) as statements:
            gql.data(query)
        assert statements, query
    gql.error('{ features(runId: "nope") { totalCount } }')
    with count_statements(seeded.url) as statements:
        gql.error('{ features(runId: "nope") { totalCount } }')
    assert statements
    assert len(gql.state.responses) == 0


def test_relabel_clears_the_cache(fresh: Seeded, monkeypatch) -> None:  # noqa: ANN001
    from gateway_support import make_state, use_database

    use_database(monkeypatch, fresh)
    gql = GraphQL(make_state(fresh))
    assert gql.data(PAGE, {"run": fresh.run_id})["features"]["nodes"][CAT]["label"] == "cat tokens"
    relabel = 'mutation($r: ID!) { relabelFeature(runId: $r, index: 3, label: "moggies") { label } }'
    gql.data(relabel, {"r": fresh.run_id}, token=TOKEN)
    assert gql.data(PAGE, {"run": fresh.run_id})["features"]["nodes"][CAT]["label"] == "moggies"


def test_a_finished_analysis_clears_the_cache_of_a_running_server(server: Server, seeded: Seeded) -> None:
    response = httpx.post(f"{server.url}/graphql", json={"query": PAGE, "variables": {"run": seeded.run_id}})
    assert response.json()["data"] and len(server.state.responses) == 1
    channel = events.JOBS_CHANNEL
    bus = events.get_bus()
    deadline = time.monotonic() + 10
    while bus.subscriber_count(channel) == 0:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    events.publish_job(events.JobEvent(job_id="j", kind="analyse", status="running", progress=0.5))
    time.sleep(0.2)
    assert len(server.state.responses) == 1  # progress is not a new result
    events.publish_job(events.JobEvent(job_id="j", kind="analyse", status="succeeded", progress=1.0))
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


def test_per_run_memos_share_the_response_cache_ttl_and_clearing() -> None:
    from services.gateway.cache import ResponseCache

    cache = ResponseCache(ttl_s=30)
    cache.put_memo(("labels", "r1"), {1: "cat"})
    assert cache.memo(("labels", "r1")) == {1: "cat"} and cache.memo(("labels", "r2")) is None
    cache.clear()  # what a relabel and a finished analysis do
    assert cache.memo(("labels", "r1")) is None
    expired = ResponseCache(ttl_s=0.01)
    expired.put_memo(("order", "r1", "index", False), (0, 1))
    time.sleep(0.02)
    assert expired.memo(("order", "r1", "index", False)) is None
    off = ResponseCache(ttl_s=0)
    off.put_memo(("labels", "r1"), {})
    assert off.memo(("labels", "r1")) is None
