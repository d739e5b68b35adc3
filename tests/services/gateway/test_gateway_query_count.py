"""DataLoaders keep a features page at a constant number of SQL statements, whatever the page size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gateway_support import GraphQL, Seeded
from sqlalchemy import event

from shared.db.session import get_engine

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


@contextmanager
def count_statements(url: str) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_features_page_costs_the_same_queries_for_any_page_size(gql: GraphQL, seeded: Seeded) -> None:
    counts = {}
    for first in (2, 10, 25):
        with count_statements(seeded.url) as statements:
            data = gql.data(PAGE, {"run": seeded.run_id, "first": first})
        assert len(data["features"]["nodes"]) == first
        assert all(n["topExamples"] or n["density"] == 0 for n in data["features"]["nodes"])
        counts[first] = len(statements)
    assert len(set(counts.values())) == 1, counts
    # run check, page, count, examples, logit lens, neighbours (labels joined in): nothing per feature
    assert 4 <= counts[2] <= 6, counts
