"""DataLoaders keep a features page at a constant number of SQL statements, whatever the page size."""

from __future__ import annotations

from gateway_support import GraphQL, Seeded, count_statements

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
