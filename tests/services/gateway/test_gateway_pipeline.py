"""End to end, as a user runs it: `uvicorn services.gateway.app:app` in embedded mode (it prints its token), a
pipeline submitted over GraphQL on the tiny GPT-2, its progress and training curves arriving over websocket
subscriptions, then its features, search and live inference queryable."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_support import REPO, Gateway, embedded_gateway
from websockets.sync.client import ClientConnection, connect

from shared.jobs.pipelines import dataset_id_for, run_id_for
from shared.paths import fence_path

D_SAE = 32
TIMEOUT_S = 600


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway as its own process, embedded mode, no SAELAB_API_TOKEN (so it generates and prints one)."""
    root = tmp_path_factory.mktemp("e2e")
    with embedded_gateway(
        root, str(tmp_path_factory.getbasetemp())
    ) as gw:  # the tiny model and corpus live there
        yield gw


def gql(gw: Gateway, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        f"{gw.url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=60
    )
    data = body.json()
    assert "errors" not in data, data["errors"]
    return data["data"]


def _subscribe(conn: ClientConnection, op: str, query: str, variables: dict[str, Any]) -> None:
    conn.send(
        json.dumps({"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}})
    )


def _collect_messages(conn: ClientConnection, until_complete: str, deadline: float) -> dict[str, list[Any]]:
    """Every `next` payload per operation id, until operation ``until_complete`` completes."""
    seen: dict[str, list[Any]] = {}
    while time.monotonic() < deadline:
        message = json.loads(conn.recv(timeout=deadline - time.monotonic()))
        if message["type"] == "next":
            assert "errors" not in message["payload"], message
            seen.setdefault(message["id"], []).append(message["payload"]["data"])
        elif message["type"] == "error":
            raise AssertionError(message)
        elif message["type"] == "complete" and message["id"] == until_complete:
            return seen
    raise AssertionError(f"the pipeline did not finish in {TIMEOUT_S} s; got {seen}")


SUBMIT = "mutation($input: PipelineInput!) { submitPipeline(input: $input) { id kind status runId } }"
JOB_UPDATES = "subscription($id: ID) { jobUpdates(jobId: $id) { id kind status progress stage parentId children { kind status } } }"
METRICS = "subscription($run: ID!) { trainingMetrics(runId: $run) { step loss l0 explainedVariance } }"


def test_pipeline_submitted_over_graphql_streams_progress_then_serves_its_features(
    gateway: Gateway, tiny_gpt2_dir: Path, small_corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.getbasetemp().resolve()  # the gateway's one data root

    def ref(path: Path) -> str:
        return fence_path(str(path), "x", (base,)).reference  # what the server stores instead of the path

    collect = {"model": str(tiny_gpt2_dir), "hook": "blocks.1.hook_resid_pre", "corpus": str(small_corpus),
               "n_tokens": 2048, "context_length": 32, "device": "cpu"}  # fmt: skip
    train = {
        "architecture": "relu",
        "d_sae": D_SAE,
        "n_steps": 40,
        "batch_size": 128,
        "log_every": 10,
        "device": "cpu",
    }
    analyse = {"top_k": 5, "device": "cpu"}
    stored = {**collect, "model": ref(tiny_gpt2_dir), "corpus": ref(small_corpus)}
    run_id = run_id_for(dataset_id_for(stored), train)  # content-addressed: the same id the server computes

    unauthorised = httpx.post(
        f"{gateway.url}/graphql", json={"query": SUBMIT, "variables": {"input": {}}}
    ).json()
    assert unauthorised["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "BAD_INPUT")

    deadline = time.monotonic() + TIMEOUT_S
    with connect(gateway.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as conn:
        conn.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(conn.recv(timeout=10))["type"] == "connection_ack"
        job = gql(gateway, SUBMIT, {"input": {"name": "e2e", "collect": collect, "train": train, "analyse": analyse,
                                              "evaluate": False}}, token=gateway.token)["submitPipeline"]  # fmt: skip
        assert job["kind"] == "PIPELINE" and job["runId"] == run_id
        # collection (loading the LM, reading the corpus) comes first, so both are listening before training
        _subscribe(conn, "metrics", METRICS, {"run": run_id})
        _subscribe(conn, "job", JOB_UPDATES, {"id": job["id"]})
        seen = _collect_messages(conn, "job", deadline)

    every = [m["jobUpdates"] for m in seen["job"]]
    updates = [u for u in every if u["kind"] == "PIPELINE"]
    stages = [u for u in every if u["kind"] != "PIPELINE"]  # the stages' own updates ride along
    assert updates[-1]["status"] == "SUCCEEDED", (updates[-1], gateway.log.read_text()[-3000:])
    assert all(u["parentId"] == job["id"] for u in stages)
    assert {u["kind"] for u in stages} == {"COLLECT", "TRAIN", "ANALYSE"}
    for kind in ("COLLECT", "TRAIN", "ANALYSE"):
        statuses = [u["status"] for u in stages if u["kind"] == kind]
        assert "RUNNING" in statuses and statuses[-1] == "SUCCEEDED", (kind, statuses)
    assert [c["kind"] for c in updates[-1]["children"]] == ["COLLECT", "TRAIN", "ANALYSE"]
    progress = [u["progress"] for u in updates]
    assert len(updates) >= 3 and progress == sorted(progress) and progress[-1] == 1.0
    assert {u["stage"] for u in updates} >= {"collect", "train", "analyse"}
    curve = [m["trainingMetrics"] for m in seen.get("metrics", [])]
    assert [p["step"] for p in curve] == [10, 20, 30, 40]
    assert all(p["loss"] > 0 and p["l0"] >= 0 for p in curve)

    run = gql(
        gateway,
        "query($r: ID!) { run(id: $r) { status analysed featureCount metrics { step } } }",
        {"r": run_id},
    )
    assert run["run"] == {"status": "SUCCEEDED", "analysed": True, "featureCount": D_SAE,
                          "metrics": [{"step": s} for s in (10, 20, 30, 40)]}  # fmt: skip
    page = gql(
        gateway,
        "query($r: ID!) { features(runId: $r, first: 5, sort: DENSITY, order: DESC) { totalCount "
        "nodes { index label density topExamples { tokens activations maxPosition } } } }",
        {"r": run_id},
    )
    top = page["features"]["nodes"][0]
    assert page["features"]["totalCount"] == D_SAE and top["density"] > 0 and top["label"]
    example = top["topExamples"][0]
    assert max(example["activations"]) == example["activations"][example["maxPosition"]] > 0
    word = re.findall(r"\w+", " ".join(n["label"] or "" for n in page["features"]["nodes"]))[0]
    hits = gql(
        gateway,
        "query($r: ID!, $q: String!) { search(runId: $r, query: $q) { index } }",
        {"r": run_id, "q": word},
    )
    assert hits["search"], f"searching {word!r} (from a label) found nothing"
    analysis = gql(gateway, "query($r: ID!) { analysePrompt(runId: $r, text: \"Once upon a time\", topK: 3) "
                   "{ tokens { token l0 features { index activation } } } }", {"r": run_id})  # fmt: skip
    tokens = analysis["analysePrompt"]["tokens"]
    assert [t["token"] for t in tokens] == ["Once", " upon", " a", " time"]
    assert all(t["l0"] >= len(t["features"]) for t in tokens)

    # no absolute server path in any answer or event (issue 17): references and store keys instead
    everything = gql(
        gateway,
        "{ runs { config summary } datasets { model corpus config } "
        "jobs(first: 50) { message error config } pipelines: jobs(kind: PIPELINE) { message error config } }",
    )
    text = json.dumps([everything, seen])
    assert str(base) not in text and str(REPO) not in text, text[:2000]
    summary = everything["runs"][0]["summary"]
    assert summary["run"] == f"runs/{run_id}" and summary["activations_path"].startswith("datasets/")
    assert everything["datasets"][0]["corpus"] == stored["corpus"]
