"""DataLoaders keep a features page at a constant number of SQL statements, whatever the page size."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gateway_support import CAT, GraphQL, Seeded, count_statements
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

PAGE = """query($run: ID!, $first: Int!) {
  features(runId: $run, first: $first, sort: DENSITY, order: DESC) {
    totalCount
    nodes {
      index label grade density maxActivation histogram { counts }
      topExamples(first: 3) { tokens activations }
      quantileSamples { quantile }
      logitLens { top { token } bottom { token } }
      decoderNeighbours { index label score }
      coactivationNeighbours { index label }
    }
  }
}"""


def test_features_page_costs_the_same_queries_for_any_page_size(gql: GraphQL, seeded: Seeded) -> None:
    counts = {}
    gql.data(PAGE, {"run": seeded.run_id, "first": 1})  # the run's density order is cached from here on
    for first in (2, 10, 25):
        with count_statements(seeded.url) as statements:
            data = gql.data(PAGE, {"run": seeded.run_id, "first": first})
        assert len(data["features"]["nodes"]) == first
        assert all(n["topExamples"] or n["density"] == 0 for n in data["features"]["nodes"])
        counts[first] = len(statements)
    assert len(set(counts.values())) == 1, counts
    # the page's rows (its order cached), examples, logit lens, neighbours (labels joined in): nothing per feature
    assert 3 <= counts[2] <= 6, counts


DETAIL = """query($run: ID!, $i: Int!) {
  feature(runId: $run, index: $i) {
    index label histogram { counts } topTokens { token } topExamples { tokens } quantileSamples { quantile }
    logitLens { top { token } } decoderNeighbours { index label } coactivationNeighbours { index }
  }
}"""


def test_feature_detail_reads_each_table_once(gql: GraphQL, seeded: Seeded) -> None:
    with count_statements(seeded.url) as statements:
        detail = gql.data(DETAIL, {"run": seeded.run_id, "i": 3})["feature"]
    assert detail["index"] == 3 and detail["topExamples"] and detail["logitLens"]["top"]
    # the row, its heavy columns, examples, logit lens, neighbours: one statement each, nothing repeated
    assert len(statements) == 5, statements
    with count_statements(seeded.url) as statements:
        assert gql.data("query($r: ID!) { feature(runId: $r, index: 3) { label } }", {"r": seeded.run_id})
    assert len(statements) == 1, statements


# --------------------------------------------------------------------------------------------------------------
# Loaders: one session per event-loop turn, errors kept to their caller, inline and thread modes alike
# --------------------------------------------------------------------------------------------------------------


def _counting_loaders(seeded: Seeded, inline: bool) -> tuple[Any, list[int]]:
    from services.gateway.loaders import Loaders
    from shared.db.session import get_sessionmaker

    factory = get_sessionmaker(seeded.url)
    sessions: list[int] = []

    def session() -> Any:
        sessions.append(1)
        return factory()

    return Loaders(session, inline=inline), sessions


@pytest.mark.parametrize("inline", [True, False])
def test_queries_of_one_turn_share_one_session_and_keep_their_own_errors(
    seeded: Seeded, inline: bool
) -> None:

    loaders, sessions = _counting_loaders(seeded, inline)
    key = (seeded.run_id, CAT)

    def broken(session: Any) -> None:
        session.execute(text("SELECT * FROM no_such_table"))

    async def turn() -> list[Any]:
        return await asyncio.gather(
            loaders.features.load(key),
            loaders.examples.load(key),
            loaders.query(broken),
            loaders.logits.load(key),
            return_exceptions=True,
        )

    row, examples, failed, logits = asyncio.run(turn())
    assert sessions == [1], "one session for the whole turn"
    assert (
        row.label == "cat tokens" and examples["top"] and logits["top"]
    )  # the failure poisoned nothing else
    assert isinstance(failed, OperationalError) and "no_such_table" in str(failed)

    async def two_turns() -> None:
        await loaders.labels.load(key)
        await loaders.labels.load((seeded.run_id, CAT + 1))

    asyncio.run(two_turns())
    assert len(sessions) == 3, "a later turn is another session"


def test_inline_and_thread_reads_answer_alike(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway_support import make_state, use_database

    use_database(monkeypatch, seeded)
    inline, thread = GraphQL(make_state(seeded)), GraphQL(make_state(seeded, db_reads="thread"))
    assert inline.state.inline_reads and not thread.state.inline_reads  # auto = inline for SQLite
    for query, variables in (
        (PAGE, {"run": seeded.run_id, "first": 10}),
        (DETAIL, {"run": seeded.run_id, "i": CAT}),
    ):
        assert inline.data(query, variables) == thread.data(query, variables)
