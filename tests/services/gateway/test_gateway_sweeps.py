"""Sweeps and comparisons over GraphQL: submitSweep validates like the CLI and queues one sweep job with a run per
member; compareRuns gives each run's evaluation and its place on the Pareto fronts."""

from __future__ import annotations

from typing import Any

import pytest
from gateway_support import COLLECT, TOKEN, GraphQL, Recorder, Seeded, make_state, use_database

SUBMIT = (
    "mutation($input: SweepInput!) { submitSweep(input: $input) { id kind status datasetId config "
    "children { id kind } sweepRuns { member runId name architecture dSae trained evaluated } } }"
)
COMPARE = (
    "query($d: ID, $r: [ID!]) { compareRuns(datasetId: $d, runIds: $r) { datasetId points { runId name "
    "architecture k sparsityCoefficient l0 explainedVariance ceLossRecovered deadFraction denseFraction "
    "evaluated onEvFront onCeFront run { id } } } }"
)
COMMON = {"n_steps": 10, "batch_size": 64, "d_sae": 16}
SAES = [
    {"name": "relu", "architecture": "relu", "l1_coefficient": 1.0},
    {"name": "topk", "architecture": "topk", "k": 4},
]


@pytest.fixture
def mutable(fresh: Seeded, monkeypatch: pytest.MonkeyPatch) -> GraphQL:
    use_database(monkeypatch, fresh)
    return GraphQL(make_state(fresh))


def test_submit_sweep_queues_one_sweep_job_with_a_run_per_member(
    mutable: GraphQL, fresh: Seeded, recorder: Recorder
) -> None:
    data = {"name": "my sweep", "datasetId": fresh.dataset_id, "common": COMMON, "saes": SAES}
    job = mutable.data(SUBMIT, {"input": data}, token=TOKEN)["submitSweep"]
    assert job["kind"] == "PIPELINE" and job["status"] == "QUEUED" and job["datasetId"] == fresh.dataset_id
    assert [c["kind"] for c in job["children"]] == ["SWEEP"]
    assert recorder.sent == [
        ("saelab.sweep", {"job_id": job["children"][0]["id"], "dataset_id": fresh.dataset_id})
    ]
    runs = job["sweepRuns"]
    assert [r["member"] for r in runs] == ["relu", "topk"]
    assert [{k: r[k] for k in ("name", "architecture", "dSae", "trained", "evaluated")} for r in runs] == [
        {"name": "my sweep/relu", "architecture": "relu", "dSae": 16, "trained": False, "evaluated": False},
        {"name": "my sweep/topk", "architecture": "topk", "dSae": 16, "trained": False, "evaluated": False},
    ]
    assert job["config"]["sweep"]["saes"] == SAES
    sweep_job = mutable.data(
        "query($id: ID!) { job(id: $id) { kind sweepRuns { runId } config } }",
        {"id": job["children"][0]["id"]},
    )["job"]
    assert sweep_job["kind"] == "SWEEP" and [r["runId"] for r in sweep_job["sweepRuns"]] == [
        r["runId"] for r in runs
    ]
    assert sweep_job["config"]["common"]["n_steps"] == 10
    collect = mutable.data(
        SUBMIT,
        {"input": {"collect": {**COLLECT, "n_tokens": 64}, "common": COMMON, "saes": SAES}},
        token=TOKEN,
    )["submitSweep"]
    assert [c["kind"] for c in collect["children"]] == ["COLLECT"] and len(collect["sweepRuns"]) == 2


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"saes": [{"architecture": "topk", "k": 40}]}, "sweep.saes.0.k", "larger than d_sae"),
        ({"saes": [{}, {"batch_size": 32}]}, "sweep.saes.1.batch_size", "set them under common"),
        ({"saes": [{"bogus": 1}]}, "sweep.saes.0.bogus", "unknown key"),
        ({"common": {**COMMON, "output": "/tmp/x"}}, "common.output", "chosen by the server"),
        ({"collect": COLLECT}, "datasetId", "exactly one of datasetId and collect"),
        ({"evaluate": {"n_tokens": 0}}, "evaluate.n_tokens", "greater than or equal to 1"),
        ({"saes": [{"name": "a"}, {"name": "b"}]}, None, "have the same training config"),
    ],
)
def test_submit_sweep_names_the_bad_field(
    mutable: GraphQL, fresh: Seeded, recorder: Recorder, change: dict[str, Any], field: str | None, words: str
) -> None:
    data = {"datasetId": fresh.dataset_id, "common": COMMON, "saes": SAES} | change
    err = mutable.error(SUBMIT, {"input": data}, token=TOKEN)
    assert err.extensions["code"] == "BAD_INPUT" and words in err.message, err.message
    if field is not None:
        assert err.extensions["field"] == field
    assert recorder.sent == []


def _seed_runs(fresh: Seeded) -> dict[str, str]:
    from shared.db.repositories.datasets import get_or_create_dataset
    from shared.db.repositories.runs import get_or_create_run, mark_run_trained, set_run_eval
    from shared.db.session import session_scope

    evals = {  # name: (train config, eval): B is beaten by A on EV (lower L0, higher EV) but best on CE
        "A": ({"architecture": "topk", "k": 8, "d_sae": 16}, {"l0": 8.0, "explained_variance": 0.8, "ce_loss_recovered": 0.7, "dead_fraction": 0.1, "dense_fraction": 0.0}),
        "B": ({"architecture": "relu", "l1_coefficient": 2.0, "d_sae": 16}, {"l0": 12.0, "explained_variance": 0.75, "ce_loss_recovered": 0.95}),
        "C": ({"architecture": "jumprelu", "l0_coefficient": 0.3, "d_sae": 16}, {"l0": 30.0, "explained_variance": 0.9, "ce_loss_recovered": 0.9}),
        "D": ({"architecture": "batchtopk", "k": 4, "d_sae": 16}, None),
    }  # fmt: skip
    ids = {}
    with session_scope(fresh.url) as s:
        get_or_create_dataset(s, "e" * 32, COLLECT, name="other")
        for name, (train, result) in evals.items():
            ids[name] = name.lower() * 32
            get_or_create_run(s, ids[name], "e" * 32, train, name=name)
            mark_run_trained(s, ids[name], 10)
            if result is not None:
                set_run_eval(s, ids[name], result, {})
    return ids


def test_compare_runs_gives_points_and_pareto_fronts(mutable: GraphQL, fresh: Seeded) -> None:
    ids = _seed_runs(fresh)
    out = mutable.data(COMPARE, {"d": "e" * 32})["compareRuns"]
    assert out["datasetId"] == "e" * 32
    points = {p["name"]: p for p in out["points"]}
    assert set(points) == {"A", "B", "C", "D"}
    assert {n for n, p in points.items() if p["onEvFront"]} == {"A", "C"}
    assert {n for n, p in points.items() if p["onCeFront"]} == {"A", "B"}
    a = points["A"]
    assert (a["l0"], a["explainedVariance"], a["ceLossRecovered"], a["deadFraction"]) == (8.0, 0.8, 0.7, 0.1)
    assert a["k"] == 8 and a["sparsityCoefficient"] is None and points["C"]["sparsityCoefficient"] == 0.3
    assert points["D"]["evaluated"] is False and points["D"]["l0"] is None and a["run"]["id"] == ids["A"]
    chosen = mutable.data(COMPARE, {"r": [ids["A"], ids["B"]]})["compareRuns"]["points"]
    assert {p["name"]: (p["onEvFront"], p["onCeFront"]) for p in chosen} == {
        "A": (True, True),
        "B": (False, True),
    }
    err = mutable.error(COMPARE, {"r": [ids["A"], fresh.run_id]})
    assert err.extensions == {"code": "BAD_INPUT", "field": "runIds"} and "different datasets" in err.message
    assert mutable.error(COMPARE, {"d": "e" * 32, "r": [ids["A"]]}).extensions["code"] == "BAD_INPUT"
    assert mutable.error(COMPARE, {"d": "missing"}).extensions["code"] == "NOT_FOUND"
