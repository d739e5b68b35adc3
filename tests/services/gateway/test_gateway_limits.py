"""Limits and error hygiene: query depth, aliases, page sizes, timeouts, masked internal errors, the rate limiter."""

from __future__ import annotations

import logging
import time

import pytest
from gateway_support import GraphQL, Seeded, make_state, use_database

from services.gateway import runs
from services.gateway.errors import RateLimited
from services.gateway.limits import RateLimiter


def _gql(seeded: Seeded, monkeypatch: pytest.MonkeyPatch, **settings: object) -> GraphQL:
    use_database(monkeypatch, seeded)
    return GraphQL(make_state(seeded, **settings))


def test_query_depth_limit(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    gql = _gql(seeded, monkeypatch, max_depth=3)
    assert gql.data("{ jobs { children { children { id } } } }")  # the leaf is 3 levels below the root field
    err = gql.error("{ jobs { children { children { children { id } } } } }")
    assert err.extensions["code"] == "BAD_INPUT" and "exceeds maximum operation depth of 3" in err.message


def test_alias_limit(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    gql = _gql(seeded, monkeypatch, max_aliases=3)
    assert gql.data("{ a: runs { id } b: runs { id } c: runs { id } }")
    err = gql.error("{ a: runs { id } b: runs { id } c: runs { id } d: runs { id } }")
    assert err.extensions["code"] == "BAD_INPUT" and "4 aliases found. Allowed: 3" in err.message


@pytest.mark.parametrize("first", [0, -1, 201])
def test_page_size_limit_names_the_argument(gql: GraphQL, seeded: Seeded, first: int) -> None:
    q = "query($run: ID!, $first: Int!) { features(runId: $run, first: $first) { totalCount } }"
    err = gql.error(q, {"run": seeded.run_id, "first": first})
    assert err.extensions == {"code": "BAD_INPUT", "field": "first"}
    assert str(first) in err.message
    err = gql.error("query($first: Int!) { jobs(first: $first) { id } }", {"first": first})
    assert err.extensions["field"] == "first"


def test_nested_list_sizes_are_limited_too(gql: GraphQL, seeded: Seeded) -> None:
    q = "query($run: ID!) { feature(runId: $run, index: 1) { topExamples(first: 500) { maxActivation } } }"
    assert gql.error(q, {"run": seeded.run_id}).extensions["field"] == "first"


def test_bad_arguments_and_unknown_runs_have_codes(gql: GraphQL, seeded: Seeded) -> None:
    err = gql.error('{ features(runId: "nope") { totalCount } }')
    assert err.extensions == {"code": "NOT_FOUND", "runId": "nope"} and "nope" in err.message
    err = gql.error(
        'query($run: ID!) { features(runId: $run, after: "garbage") { totalCount } }', {"run": seeded.run_id}
    )
    assert err.extensions == {"code": "BAD_INPUT", "field": "after"}
    err = gql.error(
        'query($r: ID!) { features(runId: $r, page: 2, after: "x") { totalCount } }', {"r": seeded.run_id}
    )
    assert err.extensions["field"] == "page"
    err = gql.error(
        "query($r: ID!) { features(runId: $r, filter: {minDensity: 2}) { totalCount } }", {"r": seeded.run_id}
    )
    assert err.extensions["code"] == "BAD_INPUT" and "filter.minDensity" in err.message
    assert gql.error("{ runs { id ").extensions["code"] == "BAD_INPUT"
    assert gql.error("{ runs { nope } }").extensions["code"] == "BAD_INPUT"
    assert (
        gql.error(
            "query($r: ID!) { run(id: $r) { metrics(every: 0) { step } } }", {"r": seeded.run_id}
        ).extensions["field"]
        == "every"
    )


def test_unexpected_errors_are_masked_and_logged(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(session: object) -> None:
        raise RuntimeError("disk on fire at /srv/secret/saelab.db")

    monkeypatch.setattr(runs, "list_runs", broken)
    with caplog.at_level(logging.ERROR, logger="services.gateway.errors"):
        err = gql.error("{ runs { id } }")
    assert err.extensions == {"code": "INTERNAL"}
    assert "/srv" not in err.message and "fire" not in err.message and "Traceback" not in err.message
    assert "disk on fire" in caplog.text  # the operator still sees it


def test_slow_operations_time_out_as_unavailable(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    # reads in a worker thread (a networked database's mode): the event loop abandons the operation at the
    # deadline; inline SQLite reads (the default for SQLite) are short and finish before the loop looks again
    gql = _gql(seeded, monkeypatch, request_timeout_s=0.2, db_reads="thread")
    assert not gql.state.inline_reads
    real = runs.list_runs

    def slow(session: object) -> object:
        time.sleep(0.6)
        return real(session)  # type: ignore[arg-type]

    monkeypatch.setattr(runs, "list_runs", slow)
    result = gql.run("{ runs { id } }")
    assert result.data is None and result.errors[0].extensions == {"code": "UNAVAILABLE"}
    assert "longer than 0.2 s" in result.errors[0].message


def test_rate_limiter_allows_a_burst_then_refills() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    limiter.check("a", now=0.0)
    limiter.check("a", now=0.0)
    with pytest.raises(RateLimited) as err:
        limiter.check("a", now=0.0)
    assert err.value.extensions["retryAfter"] == pytest.approx(1.0)
    limiter.check("b", now=0.0)  # other clients are not affected
    limiter.check("a", now=1.01)  # one token back after a second
    with pytest.raises(RateLimited):
        limiter.check("a", now=1.02)
