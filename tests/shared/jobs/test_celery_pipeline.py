"""Distributed mode through real Celery worker processes (one per queue) on PostgreSQL, Redis and SeaweedFS S3.

1. The full pipeline collect -> train -> evaluate -> analyse on the tiny GPT-2, then an idempotent re-submission.
2. SIGKILL of the trainer worker mid-training (after a checkpoint reached the store): a new worker with an empty
   disk gets the task redelivered by the broker (late acks), resumes from the stored checkpoint and finishes
   with the exact step count and no duplicated metric rows.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.configs import tiny_configs
from support.reads import count_metric_rows, get_metrics, list_features
from support.recorder import EventRecorder
from support.workers import CeleryWorker, serving, worker_env

from shared.db.prestart import upgrade
from shared.db.repositories.datasets import get_dataset
from shared.db.repositories.jobs import get_job
from shared.db.repositories.runs import get_run
from shared.db.repositories.search import search_features
from shared.db.session import session_scope
from shared.jobs.events import JOBS_CHANNEL, metrics_channel
from shared.jobs.pipelines import (
    dataset_id_for,
    run_id_for,
    submit_pipeline,
    submit_training,
    wait_for_pipeline,
)
from shared.store import checkpoint_step, checkpoints_prefix, get_store, results_prefix

pytestmark = pytest.mark.services

SERVICES = ("collector", "trainer", "analyser")


@dataclass
class Cluster:
    root: Path
    settings: dict[str, str]
    workers: dict[str, CeleryWorker]

    def start_worker(self, service: str, name: str) -> CeleryWorker:
        """A worker started as a new user would: no -n, Celery's default log level."""
        env = worker_env(self.settings, self.root / name)
        worker = CeleryWorker(service, name, env, self.root / name, defaults=True)
        self.workers[name] = worker.start()
        return worker

    def logs(self) -> str:
        return "\n\n".join(f"--- {n} ---\n{w.tail()}" for n, w in self.workers.items())


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres_server, redis_server, s3_server
) -> Iterator[Cluster]:  # noqa: ANN001
    root = tmp_path_factory.mktemp("cluster")
    db = postgres_server.create_database()
    upgrade(db)
    settings = {
        "database_url": db,
        "broker_url": redis_server.url,
        "s3_endpoint": s3_server.endpoint,
        "s3_access_key": s3_server.access_key,
        "s3_secret_key": s3_server.secret_key,
        "s3_bucket": "saelab-e2e",
        "progress_interval": "0.2",
        "heartbeat_interval": "0.5",
        "heartbeat_timeout": "4",
        "reaper_interval": "600",  # recovery in these tests must come from the broker's redelivery
        "broker_visibility_timeout": "10",
        "broker_restore_interval": "1",
        "retry_backoff": "0.5",
    }
    cluster = Cluster(root, settings, {})
    with serving(
        settings,
        root / "client",
        cluster.workers,
        lambda: [cluster.start_worker(s, f"{s}1") for s in SERVICES],
    ):
        yield cluster
    postgres_server.drop_database(db)


def _wait(sub_id: str, cluster: Cluster, timeout: float = 240) -> list:
    try:
        return wait_for_pipeline(sub_id, timeout=timeout)
    except TimeoutError as err:
        raise AssertionError(f"{err}\n{cluster.logs()}") from None


def test_full_pipeline_through_celery_workers(
    cluster: Cluster, tiny_gpt2_dir: Path, small_corpus: Path
) -> None:
    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus)
    run_id = run_id_for(dataset_id_for(collect), train)
    with EventRecorder(JOBS_CHANNEL, metrics_channel(run_id)) as events:
        sub = submit_pipeline(collect, train, analyse)
        jobs = _wait(sub.pipeline_id, cluster)
    assert [(j.kind, j.status) for j in jobs] == [
        ("collect", "succeeded"), ("train", "succeeded"), ("evaluate", "succeeded"), ("analyse", "succeeded")
    ], f"{[j.error for j in jobs]}\n{cluster.logs()}"  # fmt: skip
    nodes = {name: w.node for name, w in cluster.workers.items()}
    workers = [j.worker.rsplit("/", 1)[0] for j in jobs]  # type: ignore[union-attr]
    assert workers == [nodes["collector1"], nodes["trainer1"], nodes["trainer1"], nodes["analyser1"]]
    for job, name in zip(jobs, ["collector1", "trainer1", "trainer1", "analyser1"], strict=True):
        log = cluster.workers[
            name
        ].log.read_text()  # one INFO line as each job starts and ends, at the default level
        assert f"job {job.id} started (attempt 1 on {job.worker})" in log, log[-2000:]
        assert re.search(rf"job {job.id} ended succeeded in \d+\.\ds \(attempt 1\)", log), log[-2000:]

    with session_scope() as s:
        dataset = get_dataset(s, sub.dataset_id)  # type: ignore[arg-type]
        run = get_run(s, run_id)
        assert dataset.status == "ready" and dataset.n_tokens == 2048
        assert run.steps_done == 60 and run.eval is not None and "ce_loss_recovered" in run.eval
        features, total = list_features(s, run_id, sort="density", descending=True, limit=5)
        assert total == 64 and features[0].density >= features[-1].density
        labelled = next(f for f in features if f.label)
        word = next(w for w in labelled.label.replace("'", " ").split() if w.isalnum())  # type: ignore[union-attr]
        assert labelled.feature_index in [i for i, _ in search_features(s, run_id, word, limit=64)]

    store = get_store()
    assert store.has_dir(f"datasets/{sub.dataset_id}") and store.has_dir(f"runs/{run_id}")
    assert store.has_dir(results_prefix(run_id)) and store.exists(f"runs/{run_id}/eval.json")
    assert [checkpoint_step(n) for n in store.subdirs(checkpoints_prefix(run_id))] == [30, 60]

    for kind in ("collect", "train", "evaluate", "analyse"):
        statuses = [e.status for e in events.of_type("job") if e.kind == kind]
        assert "running" in statuses and statuses[-1] == "succeeded", (kind, statuses)
    assert [e.step for e in events.of_type("metrics")] == [20, 40, 60]

    again = submit_pipeline(collect, train, analyse)
    redo = _wait(again.pipeline_id, cluster, timeout=120)
    assert [j.status for j in redo] == ["succeeded"] * 4
    assert all(j.message.startswith("skipped") for j in redo), [j.message for j in redo]


def test_workers_on_one_host_get_unique_node_names_by_default(cluster: Cluster) -> None:
    """Three workers started without -n: three node names (not three celery@host), each answering a ping."""
    from celery import Celery

    nodes = {w.node for w in cluster.workers.values()}
    host = socket.gethostname()
    assert len(nodes) == len(cluster.workers) and all(n.endswith(f"@{host}") for n in nodes), nodes
    assert not any(n.startswith("celery@") for n in nodes)
    probe = Celery(broker=cluster.settings["broker_url"])
    try:
        replies = probe.control.ping(timeout=3)
    finally:
        probe.close()
    assert nodes <= {name for reply in replies for name in reply}, replies


def test_sigkilled_trainer_is_redelivered_and_resumes_from_the_stored_checkpoint(
    cluster: Cluster, tiny_gpt2_dir: Path, small_corpus: Path
) -> None:
    collect, _, _ = tiny_configs(tiny_gpt2_dir, small_corpus)
    dataset = submit_pipeline(collect)  # collected by the first test: skipped, or collected now
    assert [j.status for j in _wait(dataset.pipeline_id, cluster)] == ["succeeded"]
    n_steps, log_every = 600, 25
    _, train, _ = tiny_configs(tiny_gpt2_dir, small_corpus, n_steps=n_steps, log_every=log_every,
                               checkpoint_every=50, seed=7)  # fmt: skip
    run_id = run_id_for(dataset.dataset_id, train)  # type: ignore[arg-type]
    store = get_store()

    with EventRecorder(JOBS_CHANNEL) as events:
        sub = submit_training(dataset.dataset_id, train, evaluate=False)  # type: ignore[arg-type]
        deadline = time.monotonic() + 120
        while not store.subdirs(checkpoints_prefix(run_id)):
            assert time.monotonic() < deadline, f"no checkpoint reached the store\n{cluster.logs()}"
            time.sleep(0.05)
        cluster.workers["trainer1"].kill()
        killed_at = max(checkpoint_step(n) or 0 for n in store.subdirs(checkpoints_prefix(run_id)))
        with session_scope() as s:
            job = get_job(s, sub.job_id)
            assert job.status == "running" and job.attempts == 1, "training finished before the kill"
        replacement = cluster.start_worker("trainer", "trainer2")
        replacement.wait_ready()
        jobs = _wait(sub.pipeline_id, cluster, timeout=240)

    (job,) = jobs
    assert job.status == "succeeded", f"{job.error}\n{cluster.logs()}"
    assert job.attempts == 2 and job.worker.startswith(f"{replacement.node}/")  # type: ignore[union-attr]
    resumed = [
        e.message for e in events.of_type("job") if e.message.startswith("resuming from the checkpoint")
    ]
    assert resumed, [e.message for e in events.of_type("job")]
    assert int(resumed[0].rsplit(" ", 1)[1]) >= killed_at > 0
    assert f"at step {int(resumed[0].rsplit(' ', 1)[1])}" in replacement.log.read_text()

    with session_scope() as s:
        run = get_run(s, run_id)
        assert run.steps_done == n_steps
        curves = get_metrics(s, run_id)
        logged = list(range(log_every, n_steps + 1, log_every))
        assert all([step for step, _ in points] == logged for points in curves.values()), curves.keys()
        assert count_metric_rows(s, run_id) == len(logged) * len(curves)
    cfg = json.loads(store.get_bytes(f"runs/{run_id}/cfg.json"))
    assert cfg["saelab"]["trained_steps"] == n_steps
