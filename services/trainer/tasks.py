"""Tasks ``saelab.train`` and ``saelab.evaluate`` (trainer queue, the GPU workers).

Train: fetch the activation set and the run's newest stored checkpoint, call ``services.trainer.run.train`` with
progress, metrics (database rows + live events), cancellation (``should_stop``) and a checkpoint hook that uploads
each checkpoint as soon as it is written; so a redelivered task on a fresh worker resumes exactly where the lost
one checkpointed. Evaluate: fetch dataset + run, call ``evaluate_run``, store eval.json and the eval card.
A stage whose artifacts already exist is skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from services.trainer.celery_app import app
from shared.config import EvaluateConfig, TrainConfig, validate_config
from shared.db.repositories.runs import get_run, mark_run_trained, set_run_eval
from shared.db.session import session_scope
from shared.jobs.celery_app import run_delivery
from shared.jobs.contracts import EVALUATE, SWEEP, TRAIN
from shared.jobs.errors import PermanentError
from shared.jobs.lifecycle import JobContext
from shared.jobs.pipelines import submit_member_followups, sweep_runs
from shared.jobs.run_start import open_run
from shared.store import (
    dataset_prefix,
    fetch_checkpoints,
    fetch_dataset,
    fetch_latest_checkpoint,
    fetch_run,
    get_store,
    publish_run,
    run_prefix,
    upload_checkpoint,
)
from shared.sweep_config import SweepConfig

CONFIG_FILE = "train_config.yaml"


def relative_activations_path(run_dir: Path, dataset_id: str) -> None:
    """Point cfg.json's ``activations_path`` at the dataset by the store's layout (``../../datasets/<id>``).

    Store keys mirror worker directories, so the relative path resolves on every worker that fetched both.
    """
    cfg_path = run_dir / "cfg.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["activations_path"] = os.path.relpath(f"/{dataset_prefix(dataset_id)}", f"/{run_prefix('x')}")
    tmp = cfg_path.with_name(cfg_path.name + ".tmp")
    tmp.write_text(json.dumps(cfg, indent=2))
    os.replace(tmp, cfg_path)


@contextlib.contextmanager
def dataset_pinned(run_dir: Path, dataset_dir: Path) -> Iterator[None]:
    """While evaluating, make train_config.yaml name this worker's copy of the dataset if its recorded path is
    missing here (the run was trained on another worker); the file is restored afterwards, so the stored run
    is unchanged."""
    path = run_dir / CONFIG_FILE
    if not path.is_file():  # an imported SAE: cfg.json alone names its activation set (relative to the run)
        yield
        return
    original = path.read_text()
    recorded = (yaml.safe_load(original) or {}).get("activations")
    if recorded and Path(recorded).is_dir():
        yield
        return
    data = yaml.safe_load(original) | {"activations": str(dataset_dir)}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        yield
    finally:
        path.write_text(original)


def trained_steps(run_dir: Path) -> int:
    """Steps the exported SAE was trained for (cfg.json, else the last metrics row)."""
    cfg: dict[str, Any] = json.loads((run_dir / "cfg.json").read_text())
    steps = (cfg.get("saelab") or cfg.get("extra") or {}).get("trained_steps")
    if steps is None:
        lines = [ln for ln in (run_dir / "metrics.jsonl").read_text().splitlines() if ln.strip()]
        steps = json.loads(lines[-1])["step"] if lines else 0
    return int(steps)


def run_train(ctx: JobContext) -> str:
    """Body of ``saelab.train``."""
    at_start = open_run(ctx, "train")
    run_id, store, dataset_id = at_start.run_id, at_start.store, at_start.dataset_id
    if at_start.ready and store.has_dir(run_prefix(run_id)):
        return "skipped: the run is already trained"
    ctx.stage("download", "fetching the activation set")
    dataset_dir = fetch_dataset(store, dataset_id)
    run_dir = store.workdir(run_prefix(run_id))
    run_dir.mkdir(parents=True, exist_ok=True)
    step = fetch_latest_checkpoint(store, run_id, run_dir)
    cfg = validate_config(
        TrainConfig,
        ctx.config | {"activations": str(dataset_dir), "output": str(run_dir)},
        source=f"pipeline {ctx.pipeline_id} train stage",
    )
    ctx.stage("train", f"resuming from the checkpoint at step {step}" if step else "training")
    from services.trainer.run import train

    train(
        cfg,
        progress=ctx.progress,
        on_metrics=ctx.metrics_sink(run_id),
        should_stop=ctx.should_stop,
        on_checkpoint=lambda ckpt: upload_checkpoint(store, run_id, ckpt),
    )
    if ctx.should_stop():
        return "stopped"
    if not (run_dir / "sae.safetensors").is_file():
        raise PermanentError(f"training of run {run_id} ended without writing sae.safetensors")
    relative_activations_path(run_dir, dataset_id)
    ctx.stage("upload", "uploading the trained SAE")
    publish_run(store, run_id, run_dir)
    steps = trained_steps(run_dir)
    with session_scope() as s:
        mark_run_trained(s, run_id, steps)
    return f"trained {steps} steps"


def run_sweep(ctx: JobContext) -> str:
    """Body of ``saelab.sweep``: train every member on one batch stream (each run's checkpoints, metrics and
    weights stored as its own run's), then queue each run's evaluate/analyse pipeline as a child of this job."""
    dataset_id = ctx.payload.dataset_id
    store = get_store(ctx.settings)
    runs = sweep_runs(dataset_id, ctx.config)
    with session_scope() as s:
        ready = all(get_run(s, r).status == "ready" for r in runs.values())
    if ready and all(store.has_dir(run_prefix(r)) for r in runs.values()):
        message = "skipped: every run of the sweep is already trained"
    else:
        message = _train_sweep(ctx, dataset_id, runs, store)
        if message == "stopped":
            return message
    submit_member_followups(ctx.config, runs, ctx.job_id, ctx.settings)
    return message


def _train_sweep(ctx: JobContext, dataset_id: str, runs: dict[str, str], store: Any) -> str:
    ctx.stage("download", "fetching the activation set")
    dataset_dir = fetch_dataset(store, dataset_id)
    run_dirs = {name: store.workdir(run_prefix(run_id)) for name, run_id in runs.items()}
    steps = {name: fetch_checkpoints(store, runs[name], d) for name, d in run_dirs.items()}
    sweep = validate_config(
        SweepConfig,
        ctx.config | {"activations": str(dataset_dir)},
        source=f"pipeline {ctx.pipeline_id} sweep stage",
    )
    common = set.intersection(*(set(s) for s in steps.values()))
    ctx.stage(
        "train",
        f"resuming {len(runs)} SAEs at step {max(common)}" if common else f"training {len(runs)} SAEs",
    )
    sinks = {name: ctx.metrics_sink(run_id) for name, run_id in runs.items()}
    from services.trainer.sweep import train_sweep

    result = train_sweep(
        sweep,
        progress=ctx.progress,
        on_metrics=lambda name, row: sinks[name](row),
        should_stop=ctx.should_stop,
        on_checkpoint=lambda name, ckpt: upload_checkpoint(store, runs[name], ckpt),
        run_dirs=run_dirs,
    )
    if not result.finished or ctx.should_stop():
        return "stopped"
    ctx.stage("upload", "uploading the trained SAEs")
    for name, run_id in runs.items():
        run_dir = run_dirs[name]
        if not (run_dir / "sae.safetensors").is_file():
            raise PermanentError(f"sweep member {name} (run {run_id}) ended without writing sae.safetensors")
        relative_activations_path(run_dir, dataset_id)
        publish_run(store, run_id, run_dir)
        with session_scope() as s:
            mark_run_trained(s, run_id, trained_steps(run_dir))
    resumed = f" (resumed at step {max(common)})" if common else ""
    return f"trained {len(runs)} SAEs for {result.steps} steps on one batch stream{resumed}"


def run_evaluate(ctx: JobContext) -> str:
    """Body of ``saelab.evaluate``."""
    at_start = open_run(ctx, "evaluate")
    run_id, store, dataset_id = at_start.run_id, at_start.store, at_start.dataset_id
    if at_start.done and store.exists(f"{run_prefix(run_id)}/eval.json"):
        return "skipped: the run is already evaluated with this config"
    ctx.stage("download", "fetching the run and its activation set")
    dataset_dir = fetch_dataset(store, dataset_id)
    run_dir = fetch_run(store, run_id)
    cfg = validate_config(
        EvaluateConfig,
        ctx.config | {"run": str(run_dir)},
        source=f"pipeline {ctx.pipeline_id} evaluate stage",
    )
    ctx.stage("evaluate", "evaluating on held-out tokens")
    from services.trainer.evaluate import evaluate_run

    with dataset_pinned(run_dir, dataset_dir):
        result = evaluate_run(cfg, progress=ctx.progress, stored_as=run_prefix(run_id))
    ctx.stage("upload", "uploading eval.json")
    publish_run(store, run_id, run_dir)
    with session_scope() as s:
        set_run_eval(s, run_id, result, ctx.config)
    return "evaluated: " + ", ".join(f"{k} {v:.4g}" for k, v in _headline(result).items())


def _headline(result: dict[str, Any]) -> dict[str, float]:
    keys = ("explained_variance", "l0", "ce_loss_recovered")
    return {k: float(result[k]) for k in keys if isinstance(result.get(k), int | float)}


@app.task(name=TRAIN, bind=True)
def train_task(self, payload: dict) -> str:  # noqa: ANN001 - Celery's bound task
    """Celery entry: one delivery of ``saelab.train``."""
    return run_delivery(self, TRAIN, payload, run_train)


@app.task(name=SWEEP, bind=True)
def sweep_task(self, payload: dict) -> str:  # noqa: ANN001 - Celery's bound task
    """Celery entry: one delivery of ``saelab.sweep``."""
    return run_delivery(self, SWEEP, payload, run_sweep)


@app.task(name=EVALUATE, bind=True)
def evaluate_task(self, payload: dict) -> str:  # noqa: ANN001 - Celery's bound task
    """Celery entry: one delivery of ``saelab.evaluate``."""
    return run_delivery(self, EVALUATE, payload, run_evaluate)
