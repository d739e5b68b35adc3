"""Fault injection: the distributed mode with its DEFAULT recovery settings, on servers of this test alone.

One PostgreSQL (initdb'd here), one append-only Redis and one SeaweedFS S3 server (authentication on) are started
for this module, so they can be restarted without touching anything another test uses; one Celery worker per
queue runs as a new user starts it (no ``-n``, default log level, no SAELAB timing overrides). Each case runs the
tiny pipeline (collect -> train -> evaluate -> analyse) and injects one fault:

- SIGKILL of the worker running each stage (a replacement worker is started at once, as a supervisor would): the
  pipeline completes, the lost job is requeued by the reapers within 30 s with "orphaned, requeued" published as
  it happens, training recomputes at most one checkpoint interval, no metric or feature row is duplicated, live
  metric events never repeat or go back, and the artifacts have the same checksums as an uninterrupted run;
- PostgreSQL restarted, Redis restarted, the S3 server down for 30 s, each while training runs: the pipeline ends
  completed (or failed with a named, retryable reason), never stuck.

Each case prints one ``FAULT`` line with its figures (time to requeue, steps recomputed, total); docs/deployment.md
quotes them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.configs import tiny_configs
from support.reads import count_metric_rows, get_metrics, list_features
from support.recorder import EventRecorder
from support.servers import PrivatePostgres, RedisServer, SeaweedS3
from support.workers import CeleryWorker, Flower, serving, worker_env

from shared.db.models import Job
from shared.db.prestart import upgrade
from shared.db.repositories.pipelines import pipeline_jobs
from shared.db.session import dispose_engines, session_scope
from shared.jobs.events import JOBS_CHANNEL, metrics_channel
from shared.jobs.pipelines import pipeline_done, submit_pipeline
from shared.store import (
    checkpoint_step,
    checkpoints_prefix,
    dataset_prefix,
    get_store,
    results_prefix,
    run_prefix,
)

pytestmark = pytest.mark.services

SERVICES = {"collect": "collector", "train": "trainer", "evaluate": "trainer", "analyse": "analyser"}
N_STEPS, LOG_EVERY, INTERVAL = 1000, 25, 100  # INTERVAL: the default checkpoint interval, 10 % of N_STEPS
REQUEUE_WITHIN_S = 30.0


def configs(tiny_gpt2_dir: Path, small_corpus: Path) -> tuple[dict, dict, dict]:
    """The tiny pipeline with the DEFAULT checkpointing (no checkpoint_every) and long enough stages to hit."""
    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus, n_steps=N_STEPS, log_every=LOG_EVERY)
    collect |= {"n_tokens": 49_152}
    train.pop("checkpoint_every")
    return collect, train, analyse


@dataclass
class Stack:
    root: Path
    postgres: PrivatePostgres
    redis: RedisServer
    s3: SeaweedS3
    settings: dict[str, str]
    flower: Flower
    workers: dict[str, CeleryWorker] = field(default_factory=dict)
    started: int = 0

    def start_worker(self, service: str) -> CeleryWorker:
        self.started += 1
        name = f"{service}{self.started}"
        env = worker_env(self.settings, self.root / name)
        # the prefork pool of the documented commands: a solo pool runs the task inside the worker's event loop,
        # which then holds back the task events (Flower would not see the task running before it ends)
        worker = CeleryWorker(service, name, env, self.root / name, defaults=True, pool=None).start()
        self.workers[name] = worker
        return worker

    def worker_of(self, service: str) -> CeleryWorker:
        return next(w for w in self.workers.values() if w.service == service and w.proc.poll() is None)  # type: ignore[union-attr]

    def logs(self) -> str:
        return "\n\n".join(f"--- {n} ---\n{w.tail(25)}" for n, w in self.workers.items())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("faults")
    postgres = PrivatePostgres(root / "pg").start()
    redis = RedisServer(root / "redis", appendonly=True).start()
    s3 = SeaweedS3(root / "s3").start()
    upgrade(postgres.url)
    settings = {
        "database_url": postgres.url,
        "broker_url": redis.url,
        "s3_endpoint": s3.endpoint,
        "s3_access_key": s3.access_key,
        "s3_secret_key": s3.secret_key,
        "s3_bucket": "saelab-faults",
    }
    flower = Flower(redis.url, root / "flower", worker_env(settings, root / "flower")).start()
    stack = Stack(root, postgres, redis, s3, settings, flower)
    defaults = ("HEARTBEAT_INTERVAL", "HEARTBEAT_TIMEOUT", "REAPER_INTERVAL", "PROGRESS_INTERVAL",
                "BROKER_VISIBILITY_TIMEOUT", "MAX_ATTEMPTS", "RETRY_BACKOFF")  # fmt: skip
    start = lambda: [stack.start_worker(s) for s in ("collector", "trainer", "analyser")]  # noqa: E731
    try:
        with serving(settings, root / "client", stack.workers, start, unset=defaults):
            yield stack
    finally:
        flower.stop()
        s3.stop()
        redis.stop()
        postgres.stop()


# ------------------------------------------------------------------------------------------------------------
# Running one pipeline and reading what it left
# ------------------------------------------------------------------------------------------------------------


def _jobs(pipeline_id: str) -> list[Job]:
    with session_scope() as s:
        jobs = pipeline_jobs(s, pipeline_id)
        for job in jobs:
            s.expunge(job)
        return jobs


def _quietly(read: Callable[[], Any], default: Any) -> Any:
    """A read that may meet a server the test itself restarted."""
    try:
        return read()
    except Exception:  # the test's own fault (a restarting server): try again at the next poll
        dispose_engines()
        return default


def wait_until(what: str, ready: Callable[[], Any], stack: Stack, timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = _quietly(ready, None)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f}s\n{stack.logs()}")
        time.sleep(0.05)


def finish(pipeline_id: str, stack: Stack, timeout: float = 300) -> list[Job]:
    def done() -> list[Job] | None:
        finished, jobs = pipeline_done(pipeline_id)
        return jobs if finished else None

    return wait_until(f"pipeline {pipeline_id} finished", done, stack, timeout)


def running_job(pipeline_id: str, kind: str) -> Job | None:
    return next((j for j in _jobs(pipeline_id) if j.kind == kind and j.status == "running"), None)


def checksums(prefix: str) -> dict[str, str]:
    """relative path -> sha256 of every file of a stored directory (from its MANIFEST.json)."""
    files = get_store().get_json(f"{prefix}/MANIFEST.json")["files"]
    return {rel: info["sha256"] for rel, info in files.items()}


def artifacts(dataset_id: str, run_id: str) -> dict[str, str]:
    """The checksums of what a pipeline produced that must not depend on faults: the activation shards, the
    trained SAE, and the analysis results (timings and worker paths left out)."""
    shards = {
        f"dataset/{k}": v for k, v in checksums(dataset_prefix(dataset_id)).items() if k.endswith(".h5")
    }
    run = checksums(run_prefix(run_id))
    results = {
        f"results/{k}": v for k, v in checksums(results_prefix(run_id)).items() if not k.endswith(".json")
    }
    return shards | {"sae.safetensors": run["sae.safetensors"]} | results


@dataclass
class Outcome:
    jobs: list[Job]
    dataset_id: str
    run_id: str
    job_events: list[Any]
    metric_steps: list[int]
    seconds: float
    notes: dict[str, Any] = field(default_factory=dict)


class _NoRecorder:
    """Stands in for an EventRecorder where the test itself takes the event bus (Redis) down."""

    def __enter__(self) -> _NoRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def of_type(self, kind: str) -> list[Any]:
        return []


def run_pipeline(
    stack: Stack,
    tiny_gpt2_dir: Path,
    small_corpus: Path,
    fault: Callable[[str], dict[str, Any]] | None = None,
    record: bool = True,
) -> Outcome:
    """Submit the tiny pipeline (a fresh copy: force=True), inject ``fault(pipeline_id)`` from a thread, wait."""
    collect, train, analyse = configs(tiny_gpt2_dir, small_corpus)
    notes: dict[str, Any] = {}
    errors: list[BaseException] = []
    start = time.monotonic()
    jobs_recorder = EventRecorder(JOBS_CHANNEL) if record else _NoRecorder()
    with jobs_recorder as jobs_events:
        sub = submit_pipeline(collect, train, analyse, force=True)
        assert sub.run_id is not None and sub.dataset_id is not None
        metrics_recorder = EventRecorder(metrics_channel(sub.run_id)) if record else _NoRecorder()
        with metrics_recorder as metric_events:
            injector = None
            if fault is not None:

                def inject() -> None:
                    try:
                        notes.update(fault(sub.pipeline_id))
                    except BaseException as err:  # reported by the test thread below
                        errors.append(err)

                injector = threading.Thread(target=inject, name="fault", daemon=True)
                injector.start()
            jobs = finish(sub.pipeline_id, stack)
            if injector is not None:
                injector.join(120)
    if errors:
        raise errors[0]
    return Outcome(
        jobs=jobs,
        dataset_id=sub.dataset_id,
        run_id=sub.run_id,
        job_events=[e for e in jobs_events.of_type("job") if e.pipeline_id == sub.pipeline_id],
        metric_steps=[e.step for e in metric_events.of_type("metrics")],
        seconds=time.monotonic() - start,
        notes=notes,
    )


@pytest.fixture(scope="module")
def baseline(stack: Stack, tiny_gpt2_dir: Path, small_corpus: Path) -> dict[str, Any]:
    """An uninterrupted run: its artifacts' checksums and each stage's duration."""
    out = run_pipeline(stack, tiny_gpt2_dir, small_corpus)
    assert [j.status for j in out.jobs] == ["succeeded"] * 4, [j.error for j in out.jobs]
    durations = {j.kind: (j.finished_at - j.started_at).total_seconds() for j in out.jobs}  # type: ignore[operator]
    print(f"\nFAULT baseline: {out.seconds:.1f}s in all; stages {durations}")
    return {"artifacts": artifacts(out.dataset_id, out.run_id), "durations": durations}


# ------------------------------------------------------------------------------------------------------------
# SIGKILL in each stage
# ------------------------------------------------------------------------------------------------------------


def kill_in(stage: str, stack: Stack, durations: dict[str, float]) -> Callable[[str], dict[str, Any]]:
    """SIGKILL the worker running ``stage`` part-way through it; start a replacement; time the recovery."""

    def fault(pipeline_id: str) -> dict[str, Any]:
        job = wait_until(f"{stage} running", lambda: running_job(pipeline_id, stage), stack)
        notes: dict[str, Any] = {"job_id": job.id}
        if stage == "train":  # after a few default checkpoints reached the store
            prefix = checkpoints_prefix(job.run_id)

            def stored() -> int:
                return max((checkpoint_step(n) or 0 for n in get_store().subdirs(prefix)), default=0)

            wait_until("a third checkpoint stored", lambda: stored() >= 3 * INTERVAL, stack)
        else:  # part-way: its first progress report (they are written once a second) has arrived

            def part_way() -> bool:
                row = running_job(pipeline_id, stage)
                return bool(row and (row.progress or 0) > 0)

            wait_until(f"{stage} part-way", part_way, stack)
        with session_scope() as s:
            task_id = notes["task_id"] = s.get(Job, job.id).task_id  # type: ignore[union-attr]
        assert task_id, "the job row does not name the Celery task running it"
        notes["flower_before"] = flower_state(stack, task_id, lambda state: state == "STARTED")
        victim = stack.worker_of(SERVICES[stage])
        victim.kill()
        killed = time.monotonic()
        with session_scope() as s:
            row = s.get(Job, job.id)
            notes["killed_while"] = row.status if row else None
        stack.start_worker(SERVICES[stage])  # the supervisor restarts it (systemd, compose, a Deployment)
        if (
            stage == "train"
        ):  # what the dead trainer left, once its last writes (if any were in flight) landed
            time.sleep(1.0)
            with session_scope() as s:
                logged = get_metrics(s, job.run_id, ["loss"]).get("loss", [])
            notes["stored_checkpoint"] = stored()
            notes["last_logged_step"] = max((step for step, _ in logged), default=0)

        def requeued() -> bool:
            with session_scope() as s:
                row = s.get(Job, job.id)
                return bool(row and row.attempts == 1 and row.status == "queued" or row and row.attempts > 1)

        wait_until("the lost job requeued", requeued, stack, timeout=120)
        notes["requeue_s"] = time.monotonic() - killed
        if stage == "train":
            notes["stored_at_requeue"] = stored()
        notes["flower_after"] = flower_state(stack, task_id, lambda state: state != "STARTED")
        notes["flower_lost_s"] = time.monotonic() - killed

        def running_again() -> bool:
            with session_scope() as s:
                row = s.get(Job, job.id)
                return bool(row and row.attempts >= 2 and row.status in ("running", "succeeded"))

        wait_until("the lost job running again", running_again, stack, timeout=180)
        notes["running_again_s"] = time.monotonic() - killed
        return notes

    return fault


def flower_state(stack: Stack, task_id: str, ready: Callable[[str], bool], timeout: float = 20) -> dict:
    """Flower's record of ``task_id`` once its state satisfies ``ready`` (events reach Flower asynchronously)."""

    last: list[dict | None] = [None]

    def seen() -> dict | None:
        last[0] = info = stack.flower.task(task_id)
        return info if info and ready(info.get("state") or "") else None

    try:
        return wait_until(f"Flower's state of task {task_id}", seen, stack, timeout=timeout)
    except AssertionError as err:
        known = {k: v for k, v in (last[0] or {}).items() if k in ("state", "worker", "exception")}
        raise AssertionError(f"Flower's last record of the task: {known or 'none'}\n{err}") from None


@pytest.mark.parametrize("stage", ["collect", "train", "evaluate", "analyse"])
def test_sigkilled_worker_in_each_stage_recovers_with_the_defaults(
    stack: Stack, baseline: dict[str, Any], tiny_gpt2_dir: Path, small_corpus: Path, stage: str
) -> None:
    out = run_pipeline(stack, tiny_gpt2_dir, small_corpus, kill_in(stage, stack, baseline["durations"]))
    notes = out.notes
    assert [(j.kind, j.status) for j in out.jobs] == [
        ("collect", "succeeded"), ("train", "succeeded"), ("evaluate", "succeeded"), ("analyse", "succeeded")
    ], f"{[j.error for j in out.jobs]}\n{stack.logs()}"  # fmt: skip
    assert notes["killed_while"] == "running", f"the {stage} stage ended before the kill: make it longer"
    killed = next(j for j in out.jobs if j.kind == stage)
    assert killed.attempts == 2 and [j.attempts for j in out.jobs if j.kind != stage] == [1, 1, 1]
    assert notes["requeue_s"] <= REQUEUE_WITHIN_S, notes

    # Flower: the killed delivery's task was STARTED, and is shown lost (failed) once the job is requeued, for good
    lost = notes["flower_after"]
    assert notes["flower_before"]["state"] == "STARTED", notes["flower_before"]
    assert lost["state"] == "FAILURE" and "WorkerLostError" in lost["exception"], lost
    assert (
        "stopped heartbeating" in lost["exception"] and lost["worker"] == notes["flower_before"]["worker"]
    ), lost
    assert (stack.flower.task(notes["task_id"]) or {}).get(
        "state"
    ) == "FAILURE"  # still, at the pipeline's end
    assert killed.task_id != notes["task_id"]  # the requeued job ran as a new task

    # clients heard it as it happened, once; a job's events never go back within an attempt
    orphaned = [
        e for e in out.job_events if e.job_id == killed.id and e.message.startswith("orphaned, requeued")
    ]
    assert len(orphaned) == 1 and orphaned[0].status == "queued", [e.message for e in out.job_events]
    assert "requeued: requeued" not in orphaned[0].message
    for job in out.jobs:
        mine = [e for e in out.job_events if e.job_id == job.id and e.status == "running"]
        assert [e.attempts for e in mine] == sorted(e.attempts for e in mine), job.kind
        for attempt in {e.attempts for e in mine}:
            progress = [e.progress for e in mine if e.attempts == attempt]
            assert progress == sorted(progress), (job.kind, attempt, progress)

    # no duplicate rows; every logged step sent live exactly once, in order
    logged = list(range(LOG_EVERY, N_STEPS + 1, LOG_EVERY))
    with session_scope() as s:
        curves = get_metrics(s, out.run_id)
        assert all([step for step, _ in points] == logged for points in curves.values())
        assert count_metric_rows(s, out.run_id) == len(logged) * len(curves)
        assert list_features(s, out.run_id, limit=1)[1] == 64
    assert out.metric_steps == logged

    # the same artifacts as the uninterrupted run
    assert artifacts(out.dataset_id, out.run_id) == baseline["artifacts"]

    recomputed = None
    if stage == "train":
        resumed = [
            e.message for e in out.job_events if e.message.startswith("resuming from the checkpoint at step")
        ]
        assert resumed, [e.message for e in out.job_events if e.job_id == killed.id]
        resumed_at = int(resumed[0].rsplit(" ", 1)[1])
        recomputed = recomputed_bounds(resumed_at, notes)
    print(
        f"\nFAULT sigkill-{stage}: requeued after {notes['requeue_s']:.1f}s, running again after "
        f"{notes['running_again_s']:.1f}s, Flower showed the old task FAILURE after {notes['flower_lost_s']:.1f}s, "
        f"steps recomputed {recomputed if recomputed is not None else '-'} (interval {INTERVAL}), "
        f"pipeline {out.seconds:.1f}s"
    )


def recomputed_bounds(resumed_at: int, notes: dict[str, Any], at_least: int = 3 * INTERVAL) -> str:
    """Steps the resumed attempt did twice, bounded on both sides (the trainer's step at its death is unknown).

    c = the newest checkpoint stored at the kill (complete: it has its manifest). The trainer writes and uploads
    a checkpoint synchronously at every ``INTERVAL`` steps, and logs a step's metrics (a row committed) before
    taking the next step, so with L the last logged step the dead trainer's step t satisfies
    L <= t <= min(L + LOG_EVERY, c + INTERVAL) (t equals the bound only when it died inside that write).
    The new attempt resumed at c, nothing newer having been stored after the kill: it recomputed t - c steps.
    ``at_least``: the checkpoint the kill waited for. Returns "lower..upper"."""
    c, last = notes["stored_checkpoint"], notes["last_logged_step"]
    assert c >= at_least and notes["stored_at_requeue"] == c, notes  # no newer checkpoint after the kill
    assert resumed_at == c, (resumed_at, notes)
    lower, upper = last - c, min(last + LOG_EVERY, c + INTERVAL) - c
    assert 0 <= lower <= upper <= INTERVAL, notes
    return f"{lower}..{upper}"


# ------------------------------------------------------------------------------------------------------------
# Servers restarted or down
# ------------------------------------------------------------------------------------------------------------

RETRYABLE = re.compile(r"^retryable: a transient error persisted through \d+ attempts: \w+")


def outage(what: str, stack: Stack) -> Callable[[str], dict[str, Any]]:
    def fault(pipeline_id: str) -> dict[str, Any]:
        job = wait_until("training running", lambda: running_job(pipeline_id, "train"), stack)
        prefix = checkpoints_prefix(job.run_id)
        wait_until("a checkpoint stored", lambda: get_store().subdirs(prefix), stack)
        began = time.monotonic()
        if what == "postgres":
            stack.postgres.restart(down_for=2)
        elif what == "redis":
            stack.redis.restart(down_for=2)
        else:
            stack.s3.restart(down_for=30)
        dispose_engines()
        return {"outage_s": time.monotonic() - began, "ended_at": time.monotonic()}

    return fault


@pytest.mark.parametrize("what", ["postgres", "redis", "s3"])
def test_a_server_restarted_or_down_mid_pipeline_never_leaves_it_stuck(
    stack: Stack, baseline: dict[str, Any], tiny_gpt2_dir: Path, small_corpus: Path, what: str
) -> None:
    out = run_pipeline(stack, tiny_gpt2_dir, small_corpus, outage(what, stack), record=False)
    statuses = [j.status for j in out.jobs]
    failed = [j for j in out.jobs if j.status == "failed"]
    if failed:  # allowed only with a named reason that says it is worth retrying
        assert all(j.error and RETRYABLE.match(j.error) for j in failed), [j.error for j in failed]
    else:
        assert statuses == ["succeeded"] * 4, [(j.kind, j.status, j.message) for j in out.jobs]
        assert artifacts(out.dataset_id, out.run_id) == baseline["artifacts"]
    attempts = {j.kind: j.attempts for j in out.jobs}
    print(
        f"\nFAULT {what}: outage {out.notes['outage_s']:.1f}s, pipeline {out.seconds:.1f}s, "
        f"{'completed' if not failed else 'failed: ' + str(failed[0].error)}, attempts {attempts}"
    )
