"""Fault injection in embedded mode, end to end: ``saelab up`` (SQLite, local artifact directory, in-process
worker) as a subprocess, a pipeline submitted over GraphQL with the DEFAULT checkpointing, the server SIGKILLed
mid-training (after two default checkpoints), then started again as a user would.

The restarted server orphans the dead server's job at once (its process is gone: no heartbeat timeout), resumes it
from the newest stored checkpoint, and the pipeline completes with no duplicate metric rows. The figures (time from
the restart to the job requeued and to it running again, steps recomputed, bounded on both sides) are printed as
one ``FAULT embedded`` line; docs/deployment.md quotes them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.reads import count_metric_rows, get_metrics
from support.servers import free_ports
from support.workers import REPO_ROOT
from test_faults import INTERVAL, LOG_EVERY, N_STEPS, configs, recomputed_bounds

from shared.db.models import Job
from shared.db.session import dispose_engines, session_scope
from shared.settings import get_settings
from shared.store import checkpoint_step, checkpoints_prefix, get_store

SUBMIT = "mutation($input: PipelineInput!) { submitPipeline(input: $input) { id } }"
STATUS = "query($id: ID!) { job(id: $id) { status children { id kind status error attempts } } }"
TOKEN = "embedded-faults-" + os.urandom(6).hex()


class Server:
    """``saelab -v up`` on a free port, in its own process group, its log (INFO, JSON lines) in ``log``."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env, self.workdir = env, workdir
        self.log = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> float:
        """Start it; returns the monotonic time it was started at."""
        (port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "-v", "up", "--port", str(port)],
                env=self.env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return time.monotonic()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        answer = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30
        ).json()
        assert "errors" not in answer, answer
        return answer["data"]

    def healthy(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, f"saelab up exited:\n{self.text()[-3000:]}"
        try:
            return httpx.get(f"{self.url}/healthz", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_until(what: str, ready: Callable[[], Any], server: Server, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f}s\n{server.text()[-4000:]}")
        time.sleep(0.02)


@pytest.fixture
def server(tmp_path: Path, tiny_gpt2_dir: Path, small_corpus: Path) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAELAB_")} | {
        "SAELAB_DATABASE_URL": f"sqlite:///{tmp_path / 'saelab.db'}",
        "SAELAB_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "SAELAB_API_TOKEN": TOKEN,
        "SAELAB_DATA_ROOTS": f"{small_corpus.parent}{os.pathsep}{tiny_gpt2_dir}",
        "SAELAB_MODEL_CACHE": os.environ.get("SAELAB_MODEL_CACHE", "off"),
        "PYTHONPATH": str(REPO_ROOT),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    server = Server(env, tmp_path)
    with pytest.MonkeyPatch.context() as mp:  # this test reads the same database and store as the server
        for key in ("SAELAB_DATABASE_URL", "SAELAB_ARTIFACTS_DIR"):
            mp.setenv(key, env[key])
        mp.delenv("SAELAB_BROKER_URL", raising=False)
        mp.delenv("SAELAB_S3_ENDPOINT", raising=False)
        get_settings.cache_clear()
        dispose_engines()
        try:
            yield server
        finally:
            server.stop()
            get_settings.cache_clear()
            dispose_engines()


def test_a_sigkilled_embedded_server_resumes_its_pipeline_on_restart(
    server: Server, tiny_gpt2_dir: Path, small_corpus: Path
) -> None:
    collect, train, analyse = configs(
        tiny_gpt2_dir, small_corpus
    )  # default checkpointing: every INTERVAL steps
    began = server.start()
    wait_until("saelab up healthy", server.healthy, server, timeout=90)
    pipeline = {"name": "embedded kill", "collect": collect, "train": train,
                "evaluate": {"n_tokens": 512, "ce_contexts": 2}, "analyse": analyse}  # fmt: skip
    pipeline_id = server.graphql(SUBMIT, {"input": pipeline})["submitPipeline"]["id"]

    def stages() -> dict[str, dict[str, Any]]:
        job = server.graphql(STATUS, {"id": pipeline_id})["job"]
        return {c["kind"]: c for c in job["children"]} | {"pipeline": job}

    train_job = wait_until("training running", lambda: stages().get("TRAIN", {}).get("status") == "RUNNING"
                           and stages()["TRAIN"], server)  # fmt: skip
    with session_scope() as s:
        run_id = s.get(Job, train_job["id"]).run_id  # type: ignore[union-attr]
    prefix = checkpoints_prefix(run_id)

    def stored() -> int:
        return max((checkpoint_step(n) or 0 for n in get_store().subdirs(prefix)), default=0)

    wait_until("two default checkpoints stored", lambda: stored() >= 2 * INTERVAL, server)
    server.kill()
    time.sleep(1.0)  # any write in flight at the kill has landed (or never will)
    with session_scope() as s:
        logged = get_metrics(s, run_id, ["loss"]).get("loss", [])
    notes: dict[str, Any] = {
        "stored_checkpoint": stored(),
        "last_logged_step": max(step for step, _ in logged),
    }

    restarted = server.start()
    job_id = train_job["id"]
    requeued = re.compile(rf"reaper: job {job_id} \(train\): orphaned, requeued: worker embedded/\S+ is gone")
    wait_until("the orphaned job requeued", lambda: requeued.search(server.text()), server, timeout=60)
    requeue_s = time.monotonic() - restarted
    notes["stored_at_requeue"] = stored()
    wait_until(
        "the job running again", lambda: f"job {job_id} started (attempt 2 on" in server.text(), server
    )
    running_s = time.monotonic() - restarted
    wait_until("saelab up healthy again", server.healthy, server, timeout=60)
    healthy_s = time.monotonic() - restarted
    resumed = wait_until(
        "the resume line", lambda: re.search(r"resumed \S+ at step (\d+)", server.text()), server
    )

    done = wait_until("the pipeline finished", lambda: stages()["pipeline"]["status"] in
                      ("SUCCEEDED", "FAILED", "CANCELLED") and stages(), server, timeout=180)  # fmt: skip
    total_s = time.monotonic() - began
    assert done["pipeline"]["status"] == "SUCCEEDED", (done, server.text()[-4000:])
    assert [(k, done[k]["status"], done[k]["attempts"]) for k in ("COLLECT", "TRAIN", "EVALUATE", "ANALYSE")] == [
        ("COLLECT", "SUCCEEDED", 1), ("TRAIN", "SUCCEEDED", 2), ("EVALUATE", "SUCCEEDED", 1),
        ("ANALYSE", "SUCCEEDED", 1),
    ]  # fmt: skip

    # no duplicate metric rows: every logged step once per curve, the recomputed ones overwritten
    steps = list(range(LOG_EVERY, N_STEPS + 1, LOG_EVERY))
    with session_scope() as s:
        curves = get_metrics(s, run_id)
        assert curves and all([step for step, _ in points] == steps for points in curves.values())
        assert count_metric_rows(s, run_id) == len(steps) * len(curves)

    recomputed = recomputed_bounds(int(resumed.group(1)), notes, at_least=2 * INTERVAL)
    print(
        f"\nFAULT embedded: killed at checkpoint {notes['stored_checkpoint']} (last logged step "
        f"{notes['last_logged_step']}); after the restart requeued in {requeue_s:.1f}s, running again in "
        f"{running_s:.1f}s, healthy in {healthy_s:.1f}s; steps recomputed {recomputed} (interval {INTERVAL}); "
        f"pipeline {total_s:.1f}s in all"
    )
