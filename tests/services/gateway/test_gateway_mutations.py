"""Mutations through ``schema.execute``: token auth, relabelling, config validation naming the field, submission
and cancellation (with a recording dispatcher standing in for the worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway_support import CAT, TOKEN, TRAIN, GraphQL, Recorder, Seeded, make_state, use_database

from services.gateway.auth import ReadAccess
from services.gateway.schema import schema
from shared.db.repositories.pipelines import get_pipeline
from shared.db.session import session_scope
from shared.jobs.contracts import set_local_dispatcher

RELABEL = "mutation($run: ID!, $i: Int!, $l: String!) { relabelFeature(runId: $run, index: $i, label: $l) { label labelSource } }"
SUBMIT = "mutation($input: PipelineInput!) { submitPipeline(input: $input) { id kind status runId datasetId children { id kind status } } }"
COLLECT = {
    "model": "tiny",
    "hook": "blocks.1.hook_resid_pre",
    "corpus": "roneneldan/TinyStories",
    "context_length": 16,
}
"""A collect config that passes the path fence (hub ids; the recorder stands in for the worker, nothing runs)."""
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status kind children { status } } }"


def test_mutations_need_the_token(mutable: GraphQL, fresh: Seeded) -> None:
    variables = {"run": fresh.run_id, "i": CAT, "l": "felines"}
    for token in (None, "wrong-token"):
        err = mutable.error(RELABEL, variables, token=token)
        assert err.extensions["code"] == "UNAUTHENTICATED" and "Authorization: Bearer" in err.message
    q = "query($run: ID!) { feature(runId: $run, index: 3) { label } }"
    assert mutable.data(q, {"run": fresh.run_id})["feature"]["label"] == "cat tokens"  # unchanged


def test_relabel_persists_and_is_searchable(mutable: GraphQL, fresh: Seeded) -> None:
    out = mutable.data(RELABEL, {"run": fresh.run_id, "i": CAT, "l": "  felines   on mats "}, token=TOKEN)
    assert out["relabelFeature"] == {"label": "felines on mats", "labelSource": "human"}
    q = 'query($run: ID!) { feature(runId: $run, index: 3) { label labelSource } search(runId: $run, query: "felines") { index } }'
    data = mutable.data(q, {"run": fresh.run_id})
    assert data["feature"] == {"label": "felines on mats", "labelSource": "human"}
    assert [h["index"] for h in data["search"]] == [CAT]


def test_relabel_errors_name_the_problem(mutable: GraphQL, fresh: Seeded) -> None:
    err = mutable.error(RELABEL, {"run": fresh.run_id, "i": CAT, "l": "   "}, token=TOKEN)
    assert err.extensions == {"code": "BAD_INPUT", "field": "label"}
    err = mutable.error(RELABEL, {"run": fresh.run_id, "i": 999, "l": "x"}, token=TOKEN)
    assert err.extensions["code"] == "NOT_FOUND" and "999" in err.message
    err = mutable.error(RELABEL, {"run": "nope", "i": 1, "l": "x"}, token=TOKEN)
    assert err.extensions["code"] == "NOT_FOUND" and "nope" in err.message


@pytest.mark.parametrize(
    ("section", "config", "field", "words"),
    [
        ("train", {**TRAIN, "architecture": "topk"}, "train.k", "required"),
        ("train", {**TRAIN, "architecture": "batchtopk"}, "train.k", "required"),
        (
            "train",
            {**TRAIN, "architecture": "gated", "l0_coefficient": 2},
            "train.l0_coefficient",
            "jumprelu",
        ),
        (
            "train",
            {**TRAIN, "architecture": "matryoshka_batchtopk", "k": 2, "matryoshka_widths": [8, 4]},
            "train.matryoshka_widths",
            "strictly increasing",
        ),  # fmt: skip
        ("train", {**TRAIN, "lr": -1}, "train.lr", "greater than"),
        ("collect", {**COLLECT, "n_tokenz": 5}, "collect.n_tokenz", "unknown key"),
        ("collect", {**COLLECT, "output": "/tmp/x"}, "collect.output", "chosen by the server"),
        ("analyse", {"top_k": 0}, "analyse.top_k", "greater than or equal"),
        ("collect", [1, 2], "collect", "expected an object"),
        ("collect", {**COLLECT, "hook": "blocks.1.hook_mlp_ot"}, "collect.hook", "did you mean hook_mlp_out"),
        (
            "collect",
            {**COLLECT, "hook": ["blocks.0.hook_mlp_in", "blocks.1.hook_mlp_in"]},
            "collect.hook",
            "one hook",
        ),
    ],
)
def test_submit_pipeline_validates_like_the_cli(
    mutable: GraphQL, recorder: Recorder, section: str, config: Any, field: str, words: str
) -> None:
    payload = {"collect": COLLECT, "train": TRAIN, section: config}
    err = mutable.error(SUBMIT, {"input": payload}, token=TOKEN)
    assert err.extensions == {"code": "BAD_INPUT", "field": field}
    assert words in err.message and field.split(".")[0] in err.message
    assert recorder.sent == []


def test_submit_pipeline_records_it_and_enqueues_the_first_stage(
    mutable: GraphQL, recorder: Recorder
) -> None:
    job = mutable.data(
        SUBMIT,
        {"input": {"name": "my run", "collect": {**COLLECT, "n_tokens": 64}, "train": TRAIN}},
        token=TOKEN,
    )["submitPipeline"]
    assert job["kind"] == "PIPELINE" and job["status"] == "QUEUED"
    assert [c["kind"] for c in job["children"]] == ["COLLECT"]
    assert recorder.sent == [
        ("saelab.collect", {"job_id": job["children"][0]["id"], "dataset_id": job["datasetId"]})
    ]
    runs = mutable.data("{ runs { id name status } }")["runs"]
    assert {"id": job["runId"], "name": "my run", "status": "QUEUED"} in runs


@pytest.mark.parametrize(
    "train",
    [
        {"architecture": "batchtopk", "k": 4, "topk_threshold_lr": 0.05},
        {"architecture": "jumprelu", "l0_coefficient": 0.5, "jumprelu_bandwidth": 0.1, "l0_warmup_steps": 5},
        {"architecture": "matryoshka_batchtopk", "k": 4, "matryoshka_widths": [2, 8]},
        {"architecture": "gated", "l1_coefficient": 0.5},
    ],
    ids=lambda t: t["architecture"],
)
def test_submit_pipeline_accepts_every_architecture_with_its_keys(
    mutable: GraphQL, recorder: Recorder, train: dict[str, Any]
) -> None:
    cfg = {**TRAIN, **train}
    job = mutable.data(SUBMIT, {"input": {"collect": {**COLLECT, "n_tokens": 48}, "train": cfg}}, token=TOKEN)
    assert job["submitPipeline"]["kind"] == "PIPELINE" and len(recorder.sent) == 1


def test_submit_without_a_worker_is_unavailable(mutable: GraphQL) -> None:
    set_local_dispatcher(None)
    err = mutable.error(
        SUBMIT, {"input": {"collect": {**COLLECT, "n_tokens": 99}, "train": TRAIN}}, token=TOKEN
    )
    assert err.extensions["code"] == "UNAVAILABLE" and "no worker" in err.message


def test_submit_training_and_analysis_check_their_targets(
    mutable: GraphQL, fresh: Seeded, recorder: Recorder
) -> None:
    q = "mutation($d: ID!, $c: JSON!) { submitTraining(datasetId: $d, config: $c) { kind runId children { kind } } }"
    assert mutable.error(q, {"d": "missing", "c": TRAIN}, token=TOKEN).extensions["code"] == "NOT_FOUND"
    job = mutable.data(q, {"d": fresh.dataset_id, "c": {**TRAIN, "d_sae": 16}}, token=TOKEN)["submitTraining"]
    assert job["children"] == [{"kind": "TRAIN"}] and recorder.sent[-1][0] == "saelab.train"
    q = "mutation($r: ID!) { submitAnalysis(runId: $r, options: {top_k: 5}) { children { kind } runId } }"
    err = mutable.error(q, {"r": fresh.pending_run_id}, token=TOKEN)
    assert err.extensions == {"code": "BAD_INPUT", "field": "runId"} and "no trained SAE" in err.message
    job = mutable.data(q, {"r": fresh.run_id}, token=TOKEN)["submitAnalysis"]
    assert job == {"children": [{"kind": "ANALYSE"}], "runId": fresh.run_id}
    assert recorder.sent[-1] == (
        "saelab.analyse",
        {"job_id": recorder.sent[-1][1]["job_id"], "run_id": fresh.run_id},
    )


def test_cancel_job_and_pipeline(mutable: GraphQL, fresh: Seeded, recorder: Recorder) -> None:
    out = mutable.data(CANCEL, {"id": fresh.queued_job_id}, token=TOKEN)["cancelJob"]
    assert out["status"] == "CANCELLED"
    done = mutable.data(CANCEL, {"id": fresh.job_ids[0]}, token=TOKEN)["cancelJob"]
    assert done["status"] == "SUCCEEDED"  # a finished job stays as it was
    job = mutable.data(
        SUBMIT, {"input": {"collect": {**COLLECT, "n_tokens": 77}, "train": TRAIN}}, token=TOKEN
    )["submitPipeline"]
    out = mutable.data(CANCEL, {"id": job["id"]}, token=TOKEN)["cancelJob"]
    assert (
        out["kind"] == "PIPELINE"
        and out["status"] == "CANCELLED"
        and out["children"] == [{"status": "CANCELLED"}]
    )
    assert mutable.error(CANCEL, {"id": "nope"}, token=TOKEN).extensions["code"] == "NOT_FOUND"


def test_private_queries_need_the_token_but_server_info_stays_public(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, seeded)
    gql = GraphQL(make_state(seeded, public_queries=False))
    assert gql.error("{ runs { id } }").extensions["code"] == "UNAUTHENTICATED"
    assert len(gql.data("{ runs { id } }", token=TOKEN)["runs"]) == 2
    assert gql.data("{ serverInfo { publicQueries } }")["serverInfo"]["publicQueries"] is False


def test_every_query_field_but_the_server_constants_is_declared_behind_read_access() -> None:
    """A Query field declared without ``read_field`` would answer anyone on a server whose queries are private."""
    query = schema.get_type_by_name("Query")
    assert query is not None
    open_to_all = {f.name for f in query.fields if ReadAccess not in f.permission_classes}
    assert open_to_all == {"server_info", "explanation_info"}


PIPELINE_YAML = Path(__file__).resolve().parents[3] / "configs" / "pipeline_tiny.yaml"


def _stages(pipeline_id: str) -> dict[str, dict[str, Any]]:
    with session_scope() as s:
        return {st["kind"]: dict(st.get("config") or {}) for st in get_pipeline(s, pipeline_id).stages}


def test_the_readme_pipeline_yaml_is_a_valid_pipeline_input(mutable: GraphQL, recorder: Recorder) -> None:
    """configs/pipeline_tiny.yaml (the README's example) as GraphQL variables, evaluate mapping included."""
    spec = yaml.safe_load(PIPELINE_YAML.read_text())
    assert isinstance(spec["evaluate"], dict), "the example must keep showing an evaluate mapping"
    job = mutable.data(SUBMIT, {"input": spec}, token=TOKEN)["submitPipeline"]
    stages = _stages(job["id"])
    assert list(stages) == ["collect", "train", "evaluate", "analyse"]
    assert stages["evaluate"]["n_tokens"] == spec["evaluate"]["n_tokens"] == 2048
    assert stages["evaluate"]["ce_contexts"] == spec["evaluate"]["ce_contexts"]


@pytest.mark.parametrize(("evaluate", "stages"), [(True, 4), (False, 3)])
def test_evaluate_true_and_false_still_work(
    mutable: GraphQL, recorder: Recorder, evaluate: bool, stages: int
) -> None:
    payload = {
        "collect": {**COLLECT, "n_tokens": 40 + stages},
        "train": TRAIN,
        "analyse": {},
        "evaluate": evaluate,
    }
    job = mutable.data(SUBMIT, {"input": payload}, token=TOKEN)["submitPipeline"]
    assert len(_stages(job["id"])) == stages and ("evaluate" in _stages(job["id"])) is evaluate


@pytest.mark.parametrize(
    ("evaluate", "field", "words"),
    [
        ({"n_tokens": -5}, "evaluate.n_tokens", "n_tokens"),
        ({"n_tokenz": 5}, "evaluate.n_tokenz", "n_tokenz"),
        ({"run": "/etc"}, "evaluate.run", "chosen by the server"),
        ("yes", "evaluate", "expected an object"),
    ],
)
def test_a_bad_evaluate_config_is_refused_naming_the_key(
    mutable: GraphQL, recorder: Recorder, evaluate: Any, field: str, words: str
) -> None:
    err = mutable.error(
        SUBMIT, {"input": {"collect": COLLECT, "train": TRAIN, "evaluate": evaluate}}, token=TOKEN
    )
    assert err.extensions == {"code": "BAD_INPUT", "field": field} and words in err.message, err.message
    assert recorder.sent == []
