"""Every query through ``schema.execute`` against the seeded database: runs, datasets, jobs, features, search."""

from __future__ import annotations

from gateway_support import CAT, DEAD, DOG, N_FEATURES, GraphQL, Seeded, feature_record

RUN_FIELDS = """
  id name status model hook architecture dIn dSae config analysed featureCount grades stepsDone
  eval { explainedVariance l0 ceLossRecovered ceLossReconstructed ceLossZeroAblated klDivergence values }
  metrics { step loss l0 explainedVariance values }
  densityHistogram(bins: 4) { edges counts zeroFraction }
  dataset { id name corpus contextLength complete nTokens }
"""


def test_server_info_is_public_and_states_the_limits(gql: GraphQL) -> None:
    info = gql.data("{ serverInfo { mode authRequired publicQueries maxPromptTokens maxPageSize version } }")
    assert info["serverInfo"]["mode"] == "embedded"
    assert info["serverInfo"]["authRequired"] is True
    assert info["serverInfo"]["maxPageSize"] == gql.state.settings.max_page_size


def test_runs_list_the_seeded_runs_with_their_eval_and_curves(gql: GraphQL, seeded: Seeded) -> None:
    runs = gql.data(f"{{ runs {{ {RUN_FIELDS} }} }}")["runs"]
    by_id = {r["id"]: r for r in runs}
    assert set(by_id) == {seeded.run_id, seeded.pending_run_id}
    run = by_id[seeded.run_id]
    assert run["status"] == "SUCCEEDED" and run["analysed"] is True
    assert run["featureCount"] == N_FEATURES and run["dSae"] == N_FEATURES and run["dIn"] == 64
    assert run["grades"] == ["High", "Medium", "Low"]
    assert run["eval"]["explainedVariance"] == 0.9 and run["eval"]["klDivergence"] == 0.1
    assert run["eval"]["ceLossReconstructed"] == 3.2 and run["eval"]["ceLossZeroAblated"] == 9.0
    assert run["eval"]["values"]["d_in"] == 64  # nested eval.json numbers are flattened by their own key
    assert [m["step"] for m in run["metrics"]] == [0, 2, 4, 6, 8]
    assert run["metrics"][1]["loss"] == 8.0 and run["metrics"][1]["values"]["l0"] == 7.0
    hist = run["densityHistogram"]
    assert sum(hist["counts"]) == N_FEATURES - 1 and abs(hist["zeroFraction"] - 1 / N_FEATURES) < 1e-9
    assert run["dataset"]["corpus"] == "stories.txt" and run["dataset"]["complete"] is True
    pending = by_id[seeded.pending_run_id]
    assert pending["status"] == "QUEUED" and pending["analysed"] is False and pending["featureCount"] == 0
    assert pending["eval"] is None and pending["densityHistogram"] is None


def test_metrics_every_thins_the_curve_but_keeps_the_last_step(gql: GraphQL, seeded: Seeded) -> None:
    data = gql.data("query($id: ID!) { run(id: $id) { metrics(every: 2) { step } } }", {"id": seeded.run_id})
    assert [m["step"] for m in data["run"]["metrics"]] == [0, 4, 8]


def test_unknown_run_is_null_and_datasets_are_listed(gql: GraphQL, seeded: Seeded) -> None:
    assert gql.data('{ run(id: "nope") { id } }')["run"] is None
    datasets = gql.data("{ datasets { id name model hook dIn nContexts } }")["datasets"]
    assert datasets == [
        {
            "id": seeded.dataset_id,
            "name": "tiny stories",
            "model": "tiny",
            "hook": "blocks.1.hook_resid_pre",
            "dIn": 64,
            "nContexts": 10,
        }
    ]


def test_jobs_filter_by_status_and_kind_and_pipelines_show_their_stages(gql: GraphQL, seeded: Seeded) -> None:
    queued = gql.data("{ jobs(status: QUEUED) { id kind status runId name } }")["jobs"]
    assert [j["id"] for j in queued] == [seeded.queued_job_id]
    assert queued[0]["kind"] == "ANALYSE" and queued[0]["name"] == "pending run"
    trains = gql.data("{ jobs(kind: TRAIN) { id parentId } }")["jobs"]
    assert [j["id"] for j in trains] == [seeded.job_ids[1]] and trains[0]["parentId"] == seeded.pipeline_id
    pipelines = gql.data("{ jobs(kind: PIPELINE) { id status progress children { kind status } config } }")[
        "jobs"
    ]
    assert len(pipelines) == 1 and pipelines[0]["id"] == seeded.pipeline_id
    assert pipelines[0]["status"] == "SUCCEEDED" and pipelines[0]["progress"] == 1.0
    assert [c["kind"] for c in pipelines[0]["children"]] == ["COLLECT", "TRAIN"]
    assert pipelines[0]["config"]["collect"]["corpus"] == "stories.txt"


def test_job_by_id_finds_jobs_and_pipelines(gql: GraphQL, seeded: Seeded) -> None:
    q = "query($id: ID!) { job(id: $id) { id kind status config } }"
    assert gql.data(q, {"id": seeded.pipeline_id})["job"]["kind"] == "PIPELINE"
    job = gql.data(q, {"id": seeded.job_ids[1]})["job"]
    assert job["kind"] == "TRAIN" and job["config"]["d_sae"] == N_FEATURES
    assert gql.data(q, {"id": "missing"})["job"] is None


FEATURES = """
query($run: ID!, $first: Int, $after: String, $page: Int, $sort: FeatureSort, $order: SortOrder,
      $filter: FeatureFilter) {
  features(runId: $run, first: $first, after: $after, page: $page, sort: $sort, order: $order, filter: $filter) {
    totalCount page pageSize
    nodes { index label grade density maxActivation labelScore }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def test_features_page_by_page_number(gql: GraphQL, seeded: Seeded) -> None:
    page2 = gql.data(FEATURES, {"run": seeded.run_id, "first": 10, "page": 2})["features"]
    assert page2["totalCount"] == N_FEATURES and page2["page"] == 2 and page2["pageSize"] == 10
    assert [n["index"] for n in page2["nodes"]] == list(range(10, 20))
    assert page2["pageInfo"]["hasNextPage"] and page2["pageInfo"]["hasPreviousPage"]
    last = gql.data(FEATURES, {"run": seeded.run_id, "first": 10, "page": 3})["features"]
    assert last["totalCount"] == N_FEATURES and not last["pageInfo"]["hasNextPage"]


def test_features_cursor_pagination_walks_every_feature_once(gql: GraphQL, seeded: Seeded) -> None:
    seen, after = [], None
    while True:
        page = gql.data(FEATURES, {"run": seeded.run_id, "first": 7, "after": after})["features"]
        seen += [n["index"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(range(N_FEATURES))


def test_features_sort_by_each_key(gql: GraphQL, seeded: Seeded) -> None:
    records = [feature_record(i) for i in range(N_FEATURES)]
    for sort, key in (("DENSITY", "density"), ("MAX_ACTIVATION", "max_activation")):
        nodes = gql.data(FEATURES, {"run": seeded.run_id, "first": 5, "sort": sort, "order": "DESC"})[
            "features"
        ]["nodes"]
        expected = sorted(records, key=lambda r: (-getattr(r, key), r.index))[:5]
        assert [n["index"] for n in nodes] == [r.index for r in expected]
    nodes = gql.data(FEATURES, {"run": seeded.run_id, "first": 3, "sort": "LABEL_SCORE", "order": "DESC"})
    assert [n["index"] for n in nodes["features"]["nodes"]] == [28, 27, 26]
    asc = gql.data(
        FEATURES, {"run": seeded.run_id, "first": N_FEATURES, "sort": "LABEL_SCORE", "order": "ASC"}
    )
    assert asc["features"]["nodes"][-1]["index"] == DEAD  # no score: last in either order


def test_features_filters_combine_and_count_what_they_keep(gql: GraphQL, seeded: Seeded) -> None:
    flt = {"grades": ["High"], "minDensity": 0.05, "maxDensity": 0.2}
    page = gql.data(FEATURES, {"run": seeded.run_id, "first": 50, "filter": flt})["features"]
    expected = [i for i in range(N_FEATURES) if i % 3 == 0 and i != DEAD and 0.05 <= (i + 1) / 100 <= 0.2]
    assert [n["index"] for n in page["nodes"]] == expected and page["totalCount"] == len(expected)
    page = gql.data(FEATURES, {"run": seeded.run_id, "filter": {"labelContains": "PUPPY"}})["features"]
    assert [n["index"] for n in page["nodes"]] == [DOG]


FEATURE = """
query($run: ID!, $index: Int!) {
  feature(runId: $run, index: $index) {
    index label labelSource grade density log10Density nActive dead meanActivation maxActivation
    histogram { edges counts zeroFraction }
    topTokens { token value }
    topExamples(first: 2) { tokens activations maxPosition maxActivation quantile }
    quantileSamples { tokens quantile }
    logitLens { top { token value } bottom { token value } }
    decoderNeighbours { index label score }
    coactivationNeighbours(first: 1) { index score }
  }
}
"""


def test_feature_detail_has_everything_the_analysis_stored(gql: GraphQL, seeded: Seeded) -> None:
    f = gql.data(FEATURE, {"run": seeded.run_id, "index": CAT})["feature"]
    rec = feature_record(CAT)
    assert f["label"] == "cat tokens" and f["grade"] == "High" and f["labelSource"] == "auto"
    assert (
        f["density"] == rec.density
        and f["nActive"] == rec.n_active
        and f["maxActivation"] == rec.max_activation
    )
    assert f["histogram"]["counts"] == rec.histogram.counts
    assert f["topTokens"] == [{"token": " cat", "value": 0.9}]
    assert len(f["topExamples"]) == 2 and f["topExamples"][0]["tokens"][1] == " cat"
    assert f["topExamples"][0]["activations"][1] == f["topExamples"][0]["maxActivation"]
    assert f["topExamples"][0]["quantile"] is None
    assert [q["quantile"] for q in f["quantileSamples"]] == [0, 1]
    assert f["logitLens"]["top"] == [{"token": " kitten", "value": 3.0}]
    assert [n["index"] for n in f["decoderNeighbours"]] == [r.index for r in rec.decoder_neighbours]
    assert f["decoderNeighbours"][0]["label"] == feature_record(rec.decoder_neighbours[0].index).label
    assert len(f["coactivationNeighbours"]) == 1


def test_dead_feature_has_no_examples_and_unknown_feature_is_null(gql: GraphQL, seeded: Seeded) -> None:
    f = gql.data(FEATURE, {"run": seeded.run_id, "index": DEAD})["feature"]
    assert f["dead"] is True and f["density"] == 0 and f["log10Density"] is None
    assert f["topExamples"] == [] and f["logitLens"] is None and f["label"] is None
    assert gql.data(FEATURE, {"run": seeded.run_id, "index": 999})["feature"] is None


def test_search_ranks_the_labelled_feature_first_and_says_where_it_matched(
    gql: GraphQL, seeded: Seeded
) -> None:
    q = "query($run: ID!, $q: String!) { search(runId: $run, query: $q) { index label field snippet score } }"
    hits = gql.data(q, {"run": seeded.run_id, "q": "cat"})["search"]
    assert hits[0]["index"] == CAT and hits[0]["field"] == "LABEL" and hits[0]["snippet"] == "cat tokens"
    hits = gql.data(q, {"run": seeded.run_id, "q": "kitten"})["search"]
    assert [h["index"] for h in hits] == [CAT]
    assert gql.data(q, {"run": seeded.run_id, "q": "zzzz"})["search"] == []


def test_token_features_and_similar_features(gql: GraphQL, seeded: Seeded) -> None:
    q = 'query($run: ID!) { tokenFeatures(runId: $run, token: " cat") { index label score } }'
    assert gql.data(q, {"run": seeded.run_id})["tokenFeatures"] == [
        {"index": CAT, "label": "cat tokens", "score": 4.0},
        {"index": 8, "label": "pattern 8 word8", "score": 0.5},
    ]
    q = 'query($run: ID!) { tokenFeatures(runId: $run, token: "cat") { index } }'
    assert gql.data(q, {"run": seeded.run_id})["tokenFeatures"][0]["index"] == CAT  # bare word finds " cat"
    q = "query($run: ID!, $by: SimilarityKind) { similarFeatures(runId: $run, index: 3, by: $by, first: 2) { index } }"
    decoder = gql.data(q, {"run": seeded.run_id, "by": "DECODER"})["similarFeatures"]
    assert [r["index"] for r in decoder] == [r.index for r in feature_record(CAT).decoder_neighbours[:2]]
    coact = gql.data(q, {"run": seeded.run_id, "by": "COACTIVATION"})["similarFeatures"]
    assert [r["index"] for r in coact] == [r.index for r in feature_record(CAT).coactivation_neighbours[:2]]
