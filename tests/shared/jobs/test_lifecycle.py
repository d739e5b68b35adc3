"""Job lifecycle with stand-in task bodies: stages advance, retries, failures, cancellation, heartbeats, reaping."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from support.fixtures import use_settings

from shared.config import ConfigError
from shared.db.models import Job, utcnow
from shared.db.prestart import upgrade
from shared.db.repositories.jobs import claim_job, get_job
from shared.db.session import session_scope
from shared.jobs import pipelines, reaper
from shared.jobs.contracts import COLLECT, TRAIN, TaskPayload, set_local_dispatcher
from shared.jobs.lifecycle import JobContext, execute_job
from shared.jobs.reaper import reap_orphans, reap_stale_jobs
from shared.settings import get_settings

pytestmark = pytest.mark.services


class Recorder:
    """A dispatcher that records what would be enqueued."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, TaskPayload, float]] = []

    def send(self, name: str, payload: TaskPayload, countdown: float = 0.0) -> None:
        self.sent.append((name, payload, countdown))


@pytest.fixture
def sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    use_settings(monkeypatch, database_url=url, broker_url="", artifacts_dir=tmp_path / "artifacts",
                 heartbeat_interval=0.1, heartbeat_timeout=0.6, progress_interval=0, max_attempts=3,
                 retry_backoff=0.01)  # fmt: skip
    upgrade(url)
    recorder = Recorder()
    set_local_dispatcher(recorder)
    return recorder


def _submit(sent: Recorder) -> pipelines.Submission:
    sub = pipelines.submit_pipeline(
        {"model": "m", "corpus": "c.txt", "n_tokens": 256},
        {"d_sae": 16, "n_steps": 5},
        {"top_k": 3},
        evaluate=False,
    )
    assert sent.sent[-1][0] == COLLECT
    return sub


def _job(job_id: str) -> Job:
    with session_scope() as s:
        return get_job(s, job_id)


def _ok(ctx: JobContext) -> str:
    ctx.progress(5, 10, "half way")
    return "done"


def test_success_records_progress_and_enqueues_the_next_stage(sent: Recorder) -> None:
    sub = _submit(sent)
    assert _job(sub.job_id).status == "queued"
    outcome = execute_job(COLLECT, sent.sent[-1][1], _ok, worker="w1")
    assert outcome.status == "succeeded"
    job = _job(sub.job_id)
    assert (job.status, job.progress, job.message, job.attempts, job.worker) == (
        "succeeded",
        1.0,
        "done",
        1,
        "w1",
    )
    assert job.started_at is not None and job.finished_at is not None
    name, payload, _ = sent.sent[-1]
    assert name == TRAIN and payload.run_id == sub.run_id  # type: ignore[attr-defined]
    nxt = _job(payload.job_id)
    assert (nxt.kind, nxt.status, nxt.parent_id, nxt.pipeline_id) == (
        "train",
        "queued",
        sub.job_id,
        sub.pipeline_id,
    )


def test_stage_receives_its_config_from_the_pipeline(sent: Recorder) -> None:
    _submit(sent)
    seen: dict = {}
    execute_job(COLLECT, sent.sent[-1][1], lambda ctx: seen.update(ctx.config) or "ok", worker="w1")
    assert seen["n_tokens"] == 256 and seen["model"] == "m"


def test_duplicate_delivery_of_a_finished_job_is_dropped(sent: Recorder) -> None:
    _submit(sent)
    payload = sent.sent[-1][1]
    execute_job(COLLECT, payload, _ok, worker="w1")
    calls = []
    outcome = execute_job(COLLECT, payload, lambda ctx: calls.append(1) or "again", worker="w2")
    assert outcome.status == "dropped" and calls == []


def test_delivery_while_another_worker_heartbeats_is_dropped(sent: Recorder) -> None:
    sub = _submit(sent)
    payload = sent.sent[-1][1]
    with session_scope() as s:
        assert claim_job(s, sub.job_id, "w-alive", utcnow() - timedelta(seconds=60)) is not None
    outcome = execute_job(COLLECT, payload, _ok, worker="w2")
    assert outcome.status == "dropped" and _job(sub.job_id).worker == "w-alive"


def test_transient_error_is_retried_with_backoff_then_succeeds(sent: Recorder) -> None:
    sub = _submit(sent)
    payload = sent.sent[-1][1]

    def flaky(ctx: JobContext) -> str:
        raise OperationalError("SELECT 1", {}, ConnectionResetError("server closed the connection"))

    outcome = execute_job(COLLECT, payload, flaky, worker="w1")
    assert outcome.status == "retry" and outcome.countdown > 0
    job = _job(sub.job_id)
    assert job.status == "queued" and "retrying" in job.message and "server closed" in job.message
    name, again, countdown = sent.sent[-1]
    assert name == COLLECT and again == payload and countdown > 0
    assert execute_job(COLLECT, again, _ok, worker="w2").status == "succeeded"
    assert _job(sub.job_id).attempts == 2


def test_transient_errors_fail_the_job_after_max_attempts(sent: Recorder) -> None:
    sub = _submit(sent)
    payload = sent.sent[-1][1]

    def down(ctx: JobContext) -> str:
        raise ConnectionRefusedError("S3 endpoint refused the connection")

    outcomes = [execute_job(COLLECT, payload, down, worker="w1").status for _ in range(3)]
    assert outcomes == ["retry", "retry", "failed"]
    job = _job(sub.job_id)
    assert job.status == "failed" and job.attempts == 3 and "refused the connection" in (job.error or "")
    assert (job.error or "").startswith("retryable: a transient error persisted through 3 attempts: ")


def test_permanent_error_fails_with_a_readable_message_and_stops_the_pipeline(sent: Recorder) -> None:
    sub = _submit(sent)
    n_sent = len(sent.sent)

    def bad(ctx: JobContext) -> str:
        raise ConfigError(
            "pipeline collect stage: hook: blocks.99.hook_resid_pre is beyond the model's 4 layers"
        )

    outcome = execute_job(COLLECT, sent.sent[-1][1], bad, worker="w1")
    assert outcome.status == "failed"
    job = _job(sub.job_id)
    assert (
        job.error == "pipeline collect stage: hook: blocks.99.hook_resid_pre is beyond the model's 4 layers"
    )
    assert "Traceback" not in (job.error or "") and len(sent.sent) == n_sent
    done, jobs = pipelines.pipeline_done(sub.pipeline_id)
    assert done and [j.status for j in jobs] == ["failed"]


def test_cancelling_a_running_job_stops_it_at_the_next_progress_report(sent: Recorder) -> None:
    sub = _submit(sent)
    steps = []

    def long_running(ctx: JobContext) -> str:
        for i in range(100):
            if i == 3:
                pipelines.cancel_job(ctx.job_id)
            ctx.progress(i, 100)
            steps.append(i)
        return "finished"

    outcome = execute_job(COLLECT, sent.sent[-1][1], long_running, worker="w1")
    assert outcome.status == "cancelled" and steps == [0, 1, 2]
    assert _job(sub.job_id).status == "cancelled" and sent.sent[-1][0] == COLLECT  # no next stage


def test_should_stop_lets_training_end_cleanly_as_cancelled(sent: Recorder) -> None:
    sub = _submit(sent)

    def trainer(ctx: JobContext) -> str:
        for i in range(100):
            if i == 5:
                pipelines.cancel_job(ctx.job_id)
            if ctx.should_stop():
                return f"stopped at {i}"
        return "finished"

    assert execute_job(COLLECT, sent.sent[-1][1], trainer, worker="w1").status == "cancelled"
    assert _job(sub.job_id).status == "cancelled"


def test_cancelling_a_queued_job_means_it_never_runs(sent: Recorder) -> None:
    sub = _submit(sent)
    pipelines.cancel_job(sub.job_id)
    assert _job(sub.job_id).status == "cancelled"
    calls = []
    assert (
        execute_job(COLLECT, sent.sent[-1][1], lambda ctx: calls.append(1) or "", worker="w1").status
        == "dropped"
    )
    assert calls == []


def test_heartbeat_keeps_a_long_step_alive(sent: Recorder) -> None:
    sub = _submit(sent)
    reaped: list = []

    def slow(ctx: JobContext) -> str:
        for _ in range(6):  # 1.2 s without progress reports, twice the heartbeat timeout
            time.sleep(0.2)
            reaped.extend(reap_stale_jobs())
        return "done"

    assert execute_job(COLLECT, sent.sent[-1][1], slow, worker="w1").status == "succeeded"
    assert reaped == [] and _job(sub.job_id).attempts == 1


def test_reaper_requeues_a_job_whose_worker_vanished_then_fails_it(sent: Recorder) -> None:
    sub = _submit(sent)
    settings = get_settings()
    for attempt in range(1, settings.max_attempts + 1):
        with session_scope() as s:
            assert claim_job(s, sub.job_id, f"dead-{attempt}", utcnow() - timedelta(seconds=10)) is not None
            s.execute(
                update(Job).where(Job.id == sub.job_id).values(heartbeat_at=utcnow() - timedelta(seconds=5))
            )
        reaped = reap_stale_jobs()
        job = _job(sub.job_id)
        if attempt < settings.max_attempts:
            assert reaped == [(sub.job_id, "requeued")] and job.status == "queued"
            assert job.message.startswith(f"orphaned, requeued: worker dead-{attempt} stopped heartbeating")
            assert job.message.count("requeued") == 1, job.message
            assert sent.sent[-1][0] == COLLECT and sent.sent[-1][1].job_id == sub.job_id
        else:
            assert reaped == [(sub.job_id, "failed")] and job.status == "failed"
            assert (job.error or "").startswith("orphaned: worker dead-3 stopped heartbeating")
            assert "used all 3 attempts" in (job.error or "")


def test_a_worker_whose_job_was_taken_over_stops_without_touching_it(sent: Recorder) -> None:
    sub = _submit(sent)
    taken = threading.Event()

    def slow(ctx: JobContext) -> str:
        with session_scope() as s:  # meanwhile, the reaper gave the job to another worker
            s.execute(update(Job).where(Job.id == ctx.job_id).values(worker="w-new", status="running"))
        taken.set()
        ctx.progress(1, 2)
        return "should not get here"

    outcome = execute_job(COLLECT, sent.sent[-1][1], slow, worker="w-old")
    assert taken.is_set() and outcome.status == "dropped"
    job = _job(sub.job_id)
    assert (job.status, job.worker) == ("running", "w-new")


def test_a_killed_embedded_servers_job_is_orphaned_the_moment_the_next_server_starts(sent: Recorder) -> None:
    """Embedded mode: the job of a server process that no longer exists is requeued at once (no heartbeat
    timeout), and clients hear "orphaned, requeued" as it happens; a live process's job is left alone."""
    from support.recorder import EventRecorder

    from shared.jobs.embedded import EmbeddedWorker
    from shared.jobs.events import JOBS_CHANNEL

    orphan = _submit(sent)
    kept = pipelines.submit_pipeline({"model": "m", "corpus": "other.txt", "n_tokens": 256})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    with session_scope() as s:
        assert claim_job(s, orphan.job_id, f"embedded/{host}/{dead.pid}", utcnow()) is not None
        assert claim_job(s, kept.job_id, f"embedded/{host}/{os.getppid()}", utcnow()) is not None
    with EventRecorder(JOBS_CHANNEL) as events:
        moved = reap_orphans(EmbeddedWorker(get_settings(), migrate=False)._gone)
        deadline = time.monotonic() + 10
        while not any(getattr(e, "job_id", None) == orphan.job_id for e in events.events):
            assert time.monotonic() < deadline, "no live event for the orphaned job"
            time.sleep(0.05)
    assert moved == [(orphan.job_id, "requeued")]
    job = _job(orphan.job_id)
    assert job.status == "queued" and job.worker is None
    assert job.message.startswith(f"orphaned, requeued: worker embedded/{host}/{dead.pid} is gone")
    assert [e.message for e in events.of_type("job") if e.job_id == orphan.job_id] == [job.message]
    assert _job(kept.job_id).status == "running"


def test_a_resumed_run_never_sends_a_logged_step_twice(sent: Recorder) -> None:
    """Steps re-logged after a resume overwrite their rows but are not published again; new steps are."""
    from support.recorder import EventRecorder

    from shared.db.repositories.metrics import metrics_of_runs
    from shared.jobs.events import metrics_channel

    sub = _submit(sent)
    run_id = sub.run_id
    assert run_id is not None

    def ctx() -> JobContext:
        return JobContext(name=TRAIN, payload=None, job_id=sub.job_id, kind="train", pipeline_id=None,
                          attempt=1, config={}, worker="w", settings=get_settings())  # fmt: skip

    with EventRecorder(metrics_channel(run_id)) as events:
        first = ctx().metrics_sink(run_id)
        for step in (10, 20, 30):
            first({"step": step, "loss": 1.0})
        resumed = ctx().metrics_sink(
            run_id
        )  # the lost worker's replacement, resumed at the step-10 checkpoint
        for step in (20, 30, 40):
            resumed({"step": step, "loss": 2.0})
    assert [e.step for e in events.of_type("metrics")] == [10, 20, 30, 40]
    with session_scope() as s:
        (rows,) = metrics_of_runs(s, [run_id])
    assert [(r["step"], r["loss"]) for r in rows] == [(10, 1.0), (20, 2.0), (30, 2.0), (40, 2.0)]


def test_the_reaper_reports_the_lost_delivery_s_celery_task_by_its_id_and_node(
    sent: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row keeps the task id of the delivery that claimed it; a reaper reports that task lost, for the lost
    worker's node, in distributed mode only (embedded, there is no Celery task)."""
    reported: list[tuple[str, str, str]] = []
    monkeypatch.setattr(reaper, "report_task_lost", lambda task_id, node, reason, _: reported.append((task_id, node, reason)))  # fmt: skip
    sub = _submit(sent)
    seen: list[str | None] = []

    def body(ctx: JobContext) -> str:
        with session_scope() as s:
            seen.append(get_job(s, ctx.job_id).task_id)
        return "ok"

    execute_job(COLLECT, sent.sent[-1][1], body, worker="collector-9@host/77", task_id="celery-task-1")
    assert seen == ["celery-task-1"]
    job = _job(sub.job_id)
    reaper._report_lost_task(job, "worker collector-9@host/77 stopped heartbeating", get_settings())
    assert reported == []  # embedded settings: no broker
    distributed = get_settings().model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    reaper._report_lost_task(job, "worker collector-9@host/77 stopped heartbeating", distributed)
    assert reported == [
        ("celery-task-1", "collector-9@host", "worker collector-9@host/77 stopped heartbeating")
    ]
