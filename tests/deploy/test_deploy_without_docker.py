"""docs/deployment.md "Distributed mode without Docker", run as written: its process block (verbatim) against this
test's PostgreSQL, Redis and S3 servers, with a ``saelab.env`` holding exactly the keys the doc's example names.
Then, as a user would check it: the gateway is healthy, three workers answer under three node names, Flower lists
them, a pipeline submitted over GraphQL completes, and each worker logged one line per job start and end."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from deploy_support import REPO, bare_env
from support.fixtures import postgres_server, postgres_url, redis_server, s3_server  # noqa: F401
from support.servers import free_ports
from support.workers import READY

pytestmark = pytest.mark.services

DOC = REPO / "docs" / "deployment.md"
MARKER = "<!-- run-by-test: distributed-without-docker -->"
SUBMIT = "mutation($input: PipelineInput!) { submitPipeline(input: $input) { id } }"
STATUS = "query($id: ID!) { job(id: $id) { status children { id kind status error } } }"


def documented_blocks() -> tuple[str, list[str]]:
    """(the process block run by this test, the keys of the documented saelab.env)."""
    text = DOC.read_text()
    after = text.split(MARKER, 1)[1]
    script = re.search(r"```bash\n(.*?)```", after, re.DOTALL)
    env_block = re.search(r"```bash\n(SAELAB_DATABASE_URL=.*?)```", text, re.DOTALL)
    assert script and env_block, "docs/deployment.md lost its distributed-without-docker blocks"
    keys = [line.split("=", 1)[0] for line in env_block.group(1).splitlines() if "=" in line]
    return script.group(1), keys


def wait_for(what: str, check: Callable[[], Any], logs: Path, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    tails = "\n".join(
        f"--- {p.name} ---\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(logs.glob("*"))
    )
    raise AssertionError(f"{what}: not after {timeout:.0f}s\n{tails}")


def test_distributed_mode_without_docker_as_documented(  # noqa: PLR0915 - one user journey
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    redis_server,  # noqa: ANN001, F811
    s3_server,  # noqa: ANN001, F811
    tiny_gpt2_dir: Path,
    small_corpus: Path,
) -> None:
    script, keys = documented_blocks()
    token = "a-test-token-" + os.urandom(8).hex()
    values = {
        "SAELAB_DATABASE_URL": postgres_url,
        "SAELAB_BROKER_URL": redis_server.url,
        "SAELAB_S3_ENDPOINT": s3_server.endpoint,
        "SAELAB_S3_ACCESS_KEY": s3_server.access_key,
        "SAELAB_S3_SECRET_KEY": s3_server.secret_key,
        "SAELAB_API_TOKEN": token,
        "SAELAB_ARTIFACTS_DIR": str(tmp_path / "cache"),
        "SAELAB_DATA_ROOTS": f"{small_corpus.parent}:{tiny_gpt2_dir}",  # the corpus and model the test submits
    }
    assert sorted(keys) == sorted(values), "the documented saelab.env and this test's differ"
    (tmp_path / "saelab.env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    gateway_port, flower_port = free_ports(2)
    env = bare_env() | {
        "PYTHONPATH": str(REPO),
        "SAELAB_PORT": str(gateway_port),
        "FLOWER_PORT": str(flower_port),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "SAELAB_MODEL_CACHE": os.environ.get("SAELAB_MODEL_CACHE", "off"),
    }
    logs = tmp_path / "logs"
    with (tmp_path / "script.log").open("wb") as out:
        proc = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    gateway = f"http://127.0.0.1:{gateway_port}"
    try:
        wait_for(
            "gateway healthy", lambda: httpx.get(f"{gateway}/healthz", timeout=3).status_code == 200, logs
        )

        def ready_nodes() -> list[str] | None:
            found = [
                m.group(1) for p in logs.glob("*.log") for m in READY.finditer(p.read_text(errors="replace"))
            ]
            return found if len(found) == 3 else None

        nodes = wait_for("three workers ready", ready_nodes, logs)
        assert len(set(nodes)) == 3 and not any(n.startswith("celery@") for n in nodes), nodes

        def flower_workers() -> set[str] | None:
            listed = httpx.get(f"http://127.0.0.1:{flower_port}/api/workers?refresh=1", timeout=15).json()
            return set(listed) if set(nodes) <= set(listed) else None

        assert set(nodes) <= wait_for("Flower lists the workers", flower_workers, logs)

        collect = {"model": str(tiny_gpt2_dir), "corpus": str(small_corpus), "hook": "blocks.2.hook_resid_pre",
                   "context_length": 64, "n_tokens": 2048, "shard_contexts": 8, "device": "cpu"}  # fmt: skip
        train = {"d_sae": 64, "n_steps": 60, "batch_size": 128, "log_every": 20, "device": "cpu"}
        body = {"query": SUBMIT, "variables": {"input": {"name": "no docker", "collect": collect, "train": train,
                "evaluate": {"n_tokens": 512, "ce_contexts": 2}, "analyse": {"top_k": 5}}}}  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(f"{gateway}/graphql", json=body, headers=headers, timeout=60).json()
        assert "errors" not in answer, answer
        pipeline_id = answer["data"]["submitPipeline"]["id"]

        def finished() -> dict[str, Any] | None:
            job = httpx.post(f"{gateway}/graphql", json={"query": STATUS, "variables": {"id": pipeline_id}},
                             timeout=30).json()["data"]["job"]  # fmt: skip
            return job if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

        job = wait_for("the pipeline finished", finished, logs, timeout=400)
        assert job["status"] == "SUCCEEDED", job
        assert [c["kind"] for c in job["children"]] == ["COLLECT", "TRAIN", "EVALUATE", "ANALYSE"]
        worker_logs = "".join(
            p.read_text(errors="replace") for p in logs.glob("*.log") if p.stem != "gateway"
        )
        for child in job["children"]:
            assert f"job {child['id']} started (attempt 1 on " in worker_logs, child
            assert re.search(rf"job {child['id']} ended succeeded in \d+\.\ds", worker_logs), child
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass
