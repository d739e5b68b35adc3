"""Bring your own SAE over GraphQL: ``importSae`` on a real gateway process (embedded mode) imports a SAELens folder,
collects activations for its model and hook, evaluates and analyses it with live progress, and the run is then
served like a trained one. Server paths are fenced to the configured data roots."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from gateway_support import Gateway, embedded_gateway
from websockets.sync.client import connect

from shared.sae import SAEConfig, create_sae
from shared.sae.saelens import write_saelens

HOOK = "blocks.2.hook_resid_pre"
D_SAE = 48
TIMEOUT_S = 600
IMPORT = "mutation($input: ImportSaeInput!) { importSae(input: $input) { id kind status runId } }"
JOB_UPDATES = "subscription($id: ID) { jobUpdates(jobId: $id) { id kind status progress stage children { kind status } } }"


def saelens_folder(path: Path, model: Path) -> Path:
    torch.manual_seed(0)
    sae = create_sae(SAEConfig("jumprelu", 64, D_SAE, hook_name=HOOK, model_name=str(model), context_size=32))
    with torch.no_grad():
        sae.threshold.copy_(torch.rand(D_SAE) * 0.05)
    return write_saelens(sae, path)


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, small_corpus: Path, tiny_gpt2_dir: Path
) -> Iterator[Gateway]:
    """The gateway as its own process, embedded mode; data roots: a data folder, the corpus's and the model's."""
    root = tmp_path_factory.mktemp("byosae")
    data = root / "data"
    data.mkdir()
    with embedded_gateway(
        root, os.pathsep.join([str(data), str(small_corpus.parent), str(tiny_gpt2_dir)])
    ) as gw:
        yield gw


def post(gw: Gateway, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{gw.url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=60
    ).json()


def gql(gw: Gateway, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = post(gw, query, variables, gw.token)
    assert "errors" not in body, body["errors"]
    return body["data"]


def refused(gw: Gateway, source_input: dict[str, Any]) -> dict[str, Any]:
    body = post(gw, IMPORT, {"input": source_input}, gw.token)
    assert body.get("data") == {"importSae": None} and len(body["errors"]) == 1, body  # refused: no job
    return body["errors"][0]


def test_import_needs_a_token_and_fences_server_paths(gateway: Gateway, tmp_path: Path, tiny_gpt2_dir: Path):
    data = gateway.root / "data"  # one of its data roots
    outside = saelens_folder(tmp_path / "outside", tiny_gpt2_dir)
    body = post(gateway, IMPORT, {"input": {"source": str(outside)}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    for source in (
        str(outside),  # plainly outside
        f"{data}/../{tmp_path.name}/outside",  # `..` out of a root
        str(data / "link"),  # a symlink inside a root to a folder outside
    ):
        if source.endswith("link"):
            (data / "link").symlink_to(outside)
        error = refused(gateway, {"source": source})
        assert error["extensions"] == {"code": "BAD_INPUT", "field": "source"}, error
        # the roots are named by their labels, never by their server folders
        roots = error["message"].split("outside the allowed data roots (")[1]
        assert roots.startswith("@data, ") and "/" not in roots.split(")")[0], error["message"]
    error = refused(gateway, {"source": "not a path or hub id"})
    assert error["extensions"]["field"] == "source" and "hub id" in error["message"].lower()
    inside = saelens_folder(data / "fenced", tiny_gpt2_dir)
    error = refused(gateway, {"source": str(inside), "collect": {"hook": "blocks.0.hook_resid_pre"}})
    assert error["extensions"]["field"] == "import.collect.hook" and "imported SAE" in error["message"]
    error = refused(gateway, {"source": str(inside), "collect": {"corpus": str(tmp_path)}})
    assert error["extensions"]["field"] == "collect.corpus"


def test_imported_sae_is_collected_evaluated_analysed_and_served(
    gateway: Gateway, tiny_gpt2_dir: Path, small_corpus: Path
):
    data = gateway.root / "data"  # one of its data roots
    src = saelens_folder(data / "my-sae", tiny_gpt2_dir)
    spec = {"name": "byo", "source": str(src), "collect": {"corpus": str(small_corpus), "n_tokens": 640,
            "device": "cpu"}, "analyse": {"top_k": 5, "device": "cpu"}}  # fmt: skip
    deadline = time.monotonic() + TIMEOUT_S
    with connect(gateway.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as conn:
        conn.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(conn.recv(timeout=10))["type"] == "connection_ack"
        job = gql(gateway, IMPORT, {"input": spec})["importSae"]
        assert job["kind"] == "PIPELINE" and job["runId"]
        payload = {"query": JOB_UPDATES, "variables": {"id": job["id"]}}
        conn.send(json.dumps({"id": "job", "type": "subscribe", "payload": payload}))
        updates = []
        while time.monotonic() < deadline:
            message = json.loads(conn.recv(timeout=deadline - time.monotonic()))
            if message["type"] == "next":
                updates.append(message["payload"]["data"]["jobUpdates"])
            elif message["type"] == "complete":
                break
            else:
                raise AssertionError(message)
    stages = {
        u["kind"] for u in updates if u["kind"] != "PIPELINE"
    }  # a pipeline's stream carries its stages too
    assert stages == {"IMPORT", "COLLECT", "EVALUATE", "ANALYSE"}, stages
    updates = [u for u in updates if u["kind"] == "PIPELINE"]
    last = updates[-1]
    assert last["status"] == "SUCCEEDED", (last, gateway.log.read_text()[-4000:])
    assert [c["kind"] for c in last["children"]] == ["IMPORT", "COLLECT", "EVALUATE", "ANALYSE"]
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert {u["stage"] for u in updates} >= {"import", "collect", "evaluate", "analyse"}

    run_id = job["runId"]
    run = gql(gateway, "query($r: ID!) { run(id: $r) { name architecture dSae analysed featureCount dataset { model "
              "hook } eval { explainedVariance l0 ceLossRecovered } } }", {"r": run_id})["run"]  # fmt: skip
    assert (run["name"], run["architecture"], run["dSae"], run["featureCount"]) == (
        "byo",
        "jumprelu",
        D_SAE,
        D_SAE,
    )
    # collected for the SAE's own model (named by the reference to its data root, never an absolute path) and hook
    assert run["analysed"] and run["dataset"] == {"model": f"@{tiny_gpt2_dir.name}",
                                                  "hook": HOOK}  # fmt: skip
    assert all(isinstance(run["eval"][k], float) for k in ("explainedVariance", "l0", "ceLossRecovered"))
    page = gql(gateway, "query($r: ID!) { features(runId: $r, first: 3, sort: DENSITY, order: DESC) { totalCount "
               "nodes { index label density topExamples { activations maxPosition } } } }", {"r": run_id})  # fmt: skip
    top = page["features"]["nodes"][0]
    assert page["features"]["totalCount"] == D_SAE and top["density"] > 0 and top["topExamples"]
    feature = gql(gateway, "query($r: ID!, $i: Int!) { feature(runId: $r, index: $i) { index maxActivation } }",
                  {"r": run_id, "i": top["index"]})["feature"]  # fmt: skip
    assert feature["index"] == top["index"] and feature["maxActivation"] > 0
    word = re.findall(r"\w+", " ".join(n["label"] or "" for n in page["features"]["nodes"]))[0]
    hits = gql(gateway, "query($r: ID!, $q: String!) { search(runId: $r, query: $q) { index } }",
               {"r": run_id, "q": word})["search"]  # fmt: skip
    assert hits, f"searching {word!r} (from a label of the imported SAE's features) found nothing"
    analysis = gql(gateway, "query($r: ID!) { analysePrompt(runId: $r, text: \"Once upon a time\", topK: 3) "
                   "{ tokens { token l0 } } }", {"r": run_id})  # fmt: skip
    assert [t["token"] for t in analysis["analysePrompt"]["tokens"]] == ["Once", " upon", " a", " time"]
