"""A sweep through the job system (embedded): one sweep job trains every member, each member's run is stored,
evaluated and analysed by its own child pipeline, with metrics rows per run."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.configs import tiny_configs
from support.fixtures import use_embedded
from support.reads import get_metrics, list_features

from shared.config import ConfigError
from shared.db.repositories.runs import get_run
from shared.db.session import session_scope
from shared.jobs.pipelines import dataset_id_for, pipeline_done, run_id_for, sweep_runs

pytestmark = pytest.mark.services


def test_embedded_sweep_trains_evaluates_and_analyses_every_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_gpt2_dir: Path, small_corpus: Path
) -> None:
    artifacts = use_embedded(monkeypatch, tmp_path, progress_interval=0)
    from shared.jobs import embedded

    collect, train, analyse = tiny_configs(tiny_gpt2_dir, small_corpus, n_steps=20, checkpoint_every=10)
    sweep = {
        "name": "s",
        "common": {k: v for k, v in train.items() if k != "d_sae"},
        "saes": [
            {"name": "relu", "architecture": "relu", "d_sae": 64},
            {"name": "topk", "architecture": "topk", "k": 4, "d_sae": 32},
        ],
        "evaluate": {"n_tokens": 256, "ce_contexts": 2, "batch_size": 2, "device": "cpu"},
        "analyse": analyse,
    }
    try:
        sub = embedded.submit_sweep(sweep, collect=collect)
        jobs = embedded.wait_for_sweep(sub.pipeline_id, timeout=300)
        kinds = [(j.kind, j.status) for j in jobs]
        assert kinds[:2] == [("collect", "succeeded"), ("sweep", "succeeded")], [j.error for j in jobs]
        assert sorted(kinds[2:]) == [("analyse", "succeeded")] * 2 + [("evaluate", "succeeded")] * 2
        sweep_job = jobs[1]
        assert "trained 2 SAEs for 20 steps" in sweep_job.message
        runs = sweep_runs(dataset_id_for(collect), sweep)
        # a member's run is the run its own train config names: the same content-addressed id
        assert runs["relu"] == run_id_for(dataset_id_for(collect), train | {"architecture": "relu"})
        evaluate_jobs = [j for j in jobs if j.kind == "evaluate"]
        assert {j.parent_id for j in evaluate_jobs} == {sweep_job.id}
        assert {j.run_id for j in evaluate_jobs} == set(runs.values())
        with session_scope() as s:
            for name, run_id in runs.items():
                run = get_run(s, run_id)
                assert run.name == f"s/{name}" and run.status == "ready" and run.steps_done == 20
                assert run.eval is not None and run.eval["l0"] > 0 and run.analysed_at is not None
                assert run.architecture == name and (artifacts / "runs" / run_id / "eval.json").is_file()
                assert [step for step, _ in get_metrics(s, run_id, ["loss"])["loss"]] == [20]
            assert list_features(s, runs["topk"])[1] == 32
        assert embedded.wait_for_sweep(
            embedded.submit_sweep(sweep, collect=collect).pipeline_id, timeout=120
        )[1].message.startswith("skipped")
        with pytest.raises(ConfigError, match="have the same training config"):
            embedded.submit_sweep(sweep | {"saes": [{"name": "a"}, {"name": "b"}]}, collect=collect)
    finally:
        embedded.stop_worker()


def test_a_cancelled_sweep_job_resumes_from_its_stored_checkpoints_bit_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_gpt2_dir: Path, small_corpus: Path
) -> None:
    import time

    import torch

    from services.trainer.sweep import train_sweep
    from shared.sae import load_sae
    from shared.sweep_config import SweepConfig

    artifacts = use_embedded(monkeypatch, tmp_path, progress_interval=0)
    from shared.jobs import embedded

    collect, train, _ = tiny_configs(
        tiny_gpt2_dir, small_corpus, n_steps=150, checkpoint_every=10, log_every=30
    )
    sweep = {
        "name": "r",
        "common": {k: v for k, v in train.items() if k != "d_sae"},
        "saes": [{"name": "relu", "architecture": "relu", "d_sae": 64}, {"name": "topk", "architecture": "topk", "k": 4, "d_sae": 32}],
    }  # fmt: skip
    try:
        first = embedded.submit_sweep(sweep, collect=collect)
        deadline = time.monotonic() + 300
        sweep_job = None
        while (
            sweep_job is None and time.monotonic() < deadline
        ):  # cancel once the sweep is a third of the way
            _, jobs = pipeline_done(first.pipeline_id)
            running = [j for j in jobs if j.kind == "sweep" and j.progress >= 0.3]
            sweep_job = running[0].id if running else None
            time.sleep(0.05)
        assert sweep_job is not None, "the sweep job never got a third of the way"
        embedded.cancel_job(sweep_job)
        jobs = embedded.wait_for_pipeline(first.pipeline_id, timeout=120)
        assert jobs[-1].status == "cancelled"
        runs = sweep_runs(dataset_id_for(collect), sweep)
        stored = {
            name: sorted(p.name for p in (artifacts / "runs" / rid / "checkpoints").iterdir())
            for name, rid in runs.items()
        }
        assert stored["relu"] and stored["relu"] == stored["topk"], stored
        assert not (artifacts / "runs" / runs["relu"] / "sae.safetensors").exists()

        second = embedded.submit_sweep(sweep, collect=collect)
        jobs = embedded.wait_for_sweep(second.pipeline_id, timeout=300)
        assert jobs[-1].kind == "sweep" and jobs[-1].status == "succeeded", [j.error for j in jobs]
        resumed = int(jobs[-1].message.split("resumed at step ")[1].rstrip(")"))
        assert f"step-{resumed:08d}" == stored["relu"][-1] and resumed >= 40  # from the stop's own checkpoint
        # the same sweep uninterrupted, on the same stored dataset
        local = SweepConfig.model_validate(
            sweep
            | {
                "activations": str(artifacts / "datasets" / first.dataset_id),
                "output": str(tmp_path / "local"),
            }
        )
        result = train_sweep(local)
        for name, rid in runs.items():
            a, b = (
                load_sae(result.run_dirs[name]).state_dict(),
                load_sae(artifacts / "runs" / rid).state_dict(),
            )
            assert all(torch.equal(t, b[k]) for k, t in a.items()), name
    finally:
        embedded.stop_worker()
