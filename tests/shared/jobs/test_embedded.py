"""Embedded mode end to end: SQLite + local artifact directory + in-process worker, the same tasks and rows."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from support.configs import tiny_configs
from support.fixtures import use_embedded
from support.reads import get_metrics, list_features
from support.recorder import EventRecorder

from shared.db.repositories.datasets import get_dataset
from shared.db.repositories.runs import get_run
from shared.db.session import session_scope
from shared.jobs.events import JOBS_CHANNEL, metrics_channel
from shared.jobs.pipelines import dataset_id_for, run_id_for

pytestmark = pytest.mark.services


def test_embedded_pipeline_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_gpt2_dir: Path, small_corpus: Path
) -> None:
    artifacts = use_embedded(monkeypatch, tmp_path, progress_interval=0)  # every update: no timing luck
    from shared.jobs import embedded

    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus)
    run_id = run_id_for(dataset_id_for(collect), train)
    try:
        with EventRecorder(JOBS_CHANNEL, metrics_channel(run_id)) as events:
            sub = embedded.submit_pipeline(collect, train, analyse)
            jobs = embedded.wait_for_pipeline(sub.pipeline_id, timeout=300)
        assert [(j.kind, j.status) for j in jobs] == [
            ("collect", "succeeded"), ("train", "succeeded"), ("evaluate", "succeeded"), ("analyse", "succeeded")
        ], [j.error for j in jobs]  # fmt: skip
        assert sub.run_id == run_id and all(j.worker and j.worker.startswith("embedded/") for j in jobs)

        # artifacts in the local store, with manifests; rows in SQLite
        assert (artifacts / "datasets" / sub.dataset_id / "MANIFEST.json").is_file()  # type: ignore[operator]
        run_dir = artifacts / "runs" / run_id
        assert {"sae.safetensors", "cfg.json", "eval.json", "MANIFEST.json"} <= {
            p.name for p in run_dir.iterdir()
        }
        assert (run_dir / "results" / "MANIFEST.json").is_file()
        with session_scope() as s:
            dataset = get_dataset(s, sub.dataset_id)  # type: ignore[arg-type]
            run = get_run(s, run_id)
            assert dataset.status == "ready" and dataset.n_tokens == 2048 and dataset.d_in == 64
            assert run.status == "ready" and run.steps_done == 60
            # a 60-step SAE's EV sits near 0 (either sign): the stage must have stored a real card, not a quality bar
            assert run.eval is not None and run.eval["n_tokens"] > 0  # type: ignore[index]
            assert math.isfinite(run.eval["explained_variance"]) and run.eval["explained_variance"] <= 1  # type: ignore[index]
            assert run.summary is not None and run.summary["d_sae"] == 64  # type: ignore[index]
            assert list_features(s, run_id)[1] == 64
            curves = get_metrics(s, run_id)
            assert {step for step, _ in curves["loss"]} == {20, 40, 60}

        # live events: every stage ran and finished; each logged training step arrived
        job_events = events.of_type("job")
        for kind in ("collect", "train", "evaluate", "analyse"):
            statuses = [e.status for e in job_events if e.kind == kind]
            assert "running" in statuses and statuses[-1] == "succeeded", (kind, statuses)
        assert any(0 < e.progress < 1 for e in job_events if e.kind == "train")
        assert [e.step for e in events.of_type("metrics")] == [20, 40, 60]

        # the same pipeline again: same ids, every stage skipped
        again = embedded.submit_pipeline(collect, train, analyse)
        redo = embedded.wait_for_pipeline(again.pipeline_id, timeout=120)
        assert (again.dataset_id, again.run_id) == (sub.dataset_id, sub.run_id)
        assert [j.status for j in redo] == ["succeeded"] * 4
        assert all(j.message.startswith("skipped") for j in redo), [j.message for j in redo]
    finally:
        embedded.stop_worker()


def test_embedded_failure_is_recorded_with_a_readable_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_corpus: Path
) -> None:
    use_embedded(monkeypatch, tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from shared.jobs import embedded

    try:
        sub = embedded.submit_pipeline({"model": str(tmp_path / "no-such-model"), "corpus": str(small_corpus),
                                        "n_tokens": 256, "device": "cpu"})  # fmt: skip
        (job,) = embedded.wait_for_pipeline(sub.pipeline_id, timeout=120)
        assert job.status == "failed" and job.attempts == 1
        assert "no-such-model" in (job.error or "") and "Traceback" not in (job.error or "")
    finally:
        embedded.stop_worker()
