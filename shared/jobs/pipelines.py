"""Submitting work: pipelines (collect -> train -> evaluate -> analyse), single stages, cancellation, waiting.

Datasets and runs are content-addressed: the dataset id is a hash of the collect config's data-defining keys, the
run id a hash of the dataset id and the train config. Re-submitting the same pipeline therefore points at the same
rows and artifacts, and each stage whose artifacts already exist is skipped (``force=True`` gives fresh ids).
Stage configs are stored on the pipeline row; task payloads carry ids only. No torch is imported here, so the
gateway can submit.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import (
    AnalyseConfig,
    CollectConfig,
    ConfigError,
    EvaluateConfig,
    StrictModel,
    TrainConfig,
    validate_config,
)
from shared.db.models import Dataset, Job, JobStatus, Run
from shared.db.repositories.datasets import get_dataset, get_or_create_dataset
from shared.db.repositories.jobs import child_jobs, create_job, request_cancel
from shared.db.repositories.pipelines import active_pipeline, create_pipeline, get_pipeline, pipeline_jobs
from shared.db.repositories.runs import get_or_create_run, get_run
from shared.db.session import session_scope
from shared.explain.config import ExplainConfig
from shared.import_config import ImportConfig
from shared.jobs.lifecycle import dispatch_job, publish_row
from shared.settings import Settings
from shared.sweep_config import SweepConfig

STAGE_ORDER = ("import", "collect", "train", "evaluate", "analyse", "explain")
CONFIG_CLASSES: dict[str, type[StrictModel]] = {
    "import": ImportConfig,
    "collect": CollectConfig,
    "train": TrainConfig,
    "evaluate": EvaluateConfig,
    "analyse": AnalyseConfig,
    "explain": ExplainConfig,
}
# Keys that only say where or how fast a stage runs; the tasks set the paths themselves.
LOCAL_KEYS: dict[str, frozenset[str]] = {
    "import": frozenset(),
    "collect": frozenset({"output", "device", "batch_size", "compression"}),
    "train": frozenset(
        {
            "activations",
            "output",
            "device",
            "checkpoint_every",
            "checkpoint_minutes",
            "log_every",
            "cache_in_ram",
        }
    ),
    "evaluate": frozenset({"run", "device", "batch_size"}),
    "analyse": frozenset({"run", "device", "batch_tokens"}),
    "explain": frozenset({"device"}),
}


MULTI_HOOK_REFUSED = (
    "collect config: hook: a pipeline collects one hook into one dataset; submit one pipeline per hook, or "
    "collect several hooks in one pass with `saelab collect --hook A --hook B` (one dataset folder per hook)"
)


@dataclass(frozen=True)
class Submission:
    """What was submitted: the pipeline, its dataset and run, and its first job."""

    pipeline_id: str
    dataset_id: str | None
    run_id: str | None
    job_id: str
    stages: tuple[str, ...]


ConfigLike = StrictModel | dict[str, Any]


def _validated(kind: str, cfg: ConfigLike) -> StrictModel:
    cls = CONFIG_CLASSES[kind]
    if isinstance(cfg, cls):
        return cfg
    if isinstance(cfg, StrictModel):
        raise TypeError(f"{kind} config: expected {cls.__name__}, got {type(cfg).__name__}")
    return validate_config(cls, cfg, source=f"{kind} config")


def _one_hook_collect(collect: ConfigLike) -> StrictModel:
    """The collect stage's config, validated; refused when it names several hooks (a pipeline collects one)."""
    cfg = _validated("collect", collect)
    if isinstance(cfg, CollectConfig) and not isinstance(cfg.hook, str):
        raise ConfigError(MULTI_HOOK_REFUSED)
    return cfg


def stage_identity(kind: str, cfg: ConfigLike) -> dict[str, Any]:
    """The keys of a stage config that determine its result (paths, devices, batch sizes left out)."""
    data = _validated(kind, cfg).model_dump(mode="json")
    return {k: v for k, v in sorted(data.items()) if k not in LOCAL_KEYS[kind]}


def content_id(*parts: Any) -> str:
    """A 32-hex id from JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def dataset_id_for(collect: ConfigLike) -> str:
    """The content-addressed id of the dataset a collect config produces."""
    return content_id("dataset", stage_identity("collect", collect))


def run_id_for(dataset_id: str, train: ConfigLike) -> str:
    """The content-addressed id of the run a train config produces on a dataset."""
    return content_id("run", dataset_id, stage_identity("train", train))


def _stages(configs: dict[str, StrictModel]) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "config": configs[kind].model_dump(mode="json")}
        for kind in STAGE_ORDER
        if kind in configs
    ]


_SUBMIT_LOCK = threading.Lock()
"""Serialises check-then-create of pipelines in this process (SQLite has no row locks; PostgreSQL also locks the
run or dataset row, so gateway replicas serialise too)."""


def _start(
    stages: list[dict[str, Any]],
    dataset_id: str | None,
    run_id: str | None,
    settings: Settings | None,
    parent_id: str | None = None,
) -> Submission:
    """Create the pipeline and its first job and enqueue it; or, when the very same pipeline is still queued or
    running, return that one (an idempotent submission: the same pipeline submitted twice at once runs once)."""
    kinds = tuple(st["kind"] for st in stages)
    with _SUBMIT_LOCK, session_scope() as s:
        _lock_target(s, dataset_id, run_id)
        active = active_pipeline(s, stages, dataset_id, run_id)
        if active is not None:
            pipeline, current = active
            return Submission(pipeline.id, dataset_id, run_id, current.id, kinds)
        pipeline = create_pipeline(s, stages, dataset_id, run_id)
        job = create_job(
            s,
            stages[0]["kind"],
            pipeline_id=pipeline.id,
            parent_id=parent_id,
            dataset_id=dataset_id,
            run_id=run_id,
        )
        submission = Submission(pipeline.id, dataset_id, run_id, job.id, kinds)
    dispatch_job(job, settings)
    return submission


def _lock_target(session: Session, dataset_id: str | None, run_id: str | None) -> None:
    """``SELECT ... FOR UPDATE`` the run (else the dataset) row: concurrent submissions over it queue up here
    (PostgreSQL; SQLite ignores it and relies on ``_SUBMIT_LOCK`` and its single writer)."""
    if run_id is not None:
        session.execute(select(Run.id).where(Run.id == run_id).with_for_update())
    elif dataset_id is not None:
        session.execute(select(Dataset.id).where(Dataset.id == dataset_id).with_for_update())


def _evaluate_and_analyse(evaluate: ConfigLike | bool, analyse: ConfigLike | None) -> dict[str, StrictModel]:
    """The evaluate stage's config (the defaults for True, none for False) and the analyse stage's (when given)."""
    configs: dict[str, StrictModel] = {}
    if evaluate is not False:
        configs["evaluate"] = _validated("evaluate", {} if evaluate is True else evaluate)
    if analyse is not None:
        configs["analyse"] = _validated("analyse", analyse)
    return configs


def submit_pipeline(
    collect: ConfigLike,
    train: ConfigLike | None = None,
    analyse: ConfigLike | None = None,
    evaluate: ConfigLike | bool = True,
    *,
    name: str = "",
    force: bool = False,
    settings: Settings | None = None,
) -> Submission:
    """Submit collect -> train -> evaluate -> analyse (train/evaluate/analyse optional); returns the ids.

    ``evaluate=True`` evaluates with the default EvaluateConfig, ``False`` skips evaluation, a config uses it.
    Configs may be config objects or plain dicts (validated strictly; errors name the stage and the key).
    """
    configs: dict[str, StrictModel] = {"collect": _one_hook_collect(collect)}
    if train is not None:
        configs["train"] = _validated("train", train)
        configs |= _evaluate_and_analyse(evaluate, analyse)
    elif analyse is not None or not isinstance(evaluate, bool):
        raise ValueError("train: required when evaluate or analyse is given")
    salt = uuid.uuid4().hex if force else ""
    dataset_id = (
        content_id(dataset_id_for(configs["collect"]), salt) if force else dataset_id_for(configs["collect"])
    )
    run_id = run_id_for(dataset_id, configs["train"]) if "train" in configs else None
    with session_scope() as s:
        get_or_create_dataset(s, dataset_id, configs["collect"].model_dump(mode="json"), name=name)
        if run_id is not None:
            get_or_create_run(s, run_id, dataset_id, configs["train"].model_dump(mode="json"), name=name)
    return _start(_stages(configs), dataset_id, run_id, settings)


def submit_training(
    dataset_id: str,
    train: ConfigLike,
    analyse: ConfigLike | None = None,
    evaluate: ConfigLike | bool = True,
    *,
    name: str = "",
    force: bool = False,
    settings: Settings | None = None,
) -> Submission:
    """Train (then evaluate / analyse) on an existing dataset."""
    configs = {"train": _validated("train", train)} | _evaluate_and_analyse(evaluate, analyse)
    run_id = run_id_for(dataset_id, configs["train"])
    if force:
        run_id = content_id(run_id, uuid.uuid4().hex)
    with session_scope() as s:
        get_dataset(s, dataset_id)
        get_or_create_run(s, run_id, dataset_id, configs["train"].model_dump(mode="json"), name=name)
    return _start(_stages(configs), dataset_id, run_id, settings)


FROM_SAE = ("model", "gguf_file", "hook")
"""Collect keys an imported SAE decides (its import stage writes them into the collect stage)."""


def submit_import(
    source: ConfigLike,
    collect: dict[str, Any] | None = None,
    analyse: ConfigLike | None = None,
    evaluate: ConfigLike | bool = True,
    *,
    name: str = "",
    force: bool = False,
    settings: Settings | None = None,
) -> Submission:
    """Import an SAE, collect activations for its model and hook, evaluate and analyse it: a run like any other.

    ``collect`` holds the CollectConfig keys the caller chooses (``corpus``, ``n_tokens``, ...); ``model``,
    ``gguf_file`` and ``hook`` come from the SAE, so they are refused here and filled in by the import stage,
    which also records the SAE's context length and BOS choice unless ``collect`` sets them.
    """
    import_cfg = _validated("import", source)
    requested = dict(collect or {})
    clash = sorted(set(requested) & set(FROM_SAE))
    if clash:
        raise ConfigError(
            f"collect config: {clash[0]}: set by the imported SAE (its cfg names model and hook)"
        )
    collect_cfg = validate_config(CollectConfig, requested, source="collect config")
    chosen = collect_cfg.model_dump(mode="json", exclude_unset=True)
    configs = {"import": import_cfg, "collect": collect_cfg} | _evaluate_and_analyse(
        evaluate, analyse if analyse is not None else {}
    )
    stages = _stages(configs)
    stages[1]["config"] = chosen  # completed by the import stage once the SAE's model and hook are known
    salt = uuid.uuid4().hex if force else ""
    identity = stage_identity("import", import_cfg)
    dataset_id = content_id("import-dataset", identity, chosen, salt)
    run_id = content_id("import-run", dataset_id)
    name = name or f"import {import_cfg.label}"[:200]  # type: ignore[attr-defined]
    with session_scope() as s:
        get_or_create_dataset(s, dataset_id, chosen, name=name)
        get_or_create_run(s, run_id, dataset_id, {"import": import_cfg.model_dump(mode="json")}, name=name)
    return _start(stages, dataset_id, run_id, settings)


def sweep_config(data: ConfigLike) -> SweepConfig:
    """A sweep config validated strictly (errors name ``saes.<i>.<key>``)."""
    if isinstance(data, SweepConfig):
        return data
    if isinstance(data, StrictModel):
        raise TypeError(f"sweep config: expected SweepConfig, got {type(data).__name__}")
    return validate_config(SweepConfig, data, source="sweep config")


def sweep_runs(dataset_id: str, sweep: ConfigLike) -> dict[str, str]:
    """Member name -> run id of a sweep on a dataset (content-addressed like a single run: a member trained in a
    sweep is the run its own train config gives)."""
    return {name: run_id_for(dataset_id, cfg) for name, cfg in sweep_config(sweep).members()}


def submit_sweep(
    sweep: ConfigLike,
    *,
    dataset_id: str | None = None,
    collect: ConfigLike | None = None,
    settings: Settings | None = None,
) -> Submission:
    """Train every SAE of ``sweep`` in one job on an existing dataset, or after collecting ``collect``; then each
    member's run is evaluated and analysed by its own child pipeline (``sweep.evaluate`` / ``sweep.analyse``).
    One run row per member, named ``<sweep name>/<member>``."""
    cfg = sweep_config(sweep)
    if (dataset_id is None) == (collect is None):
        raise ValueError("submit_sweep: give exactly one of dataset_id (an existing dataset) and collect")
    stages: list[dict[str, Any]] = []
    collect_dump: dict[str, Any] | None = None
    if collect is not None:
        collect_cfg = _one_hook_collect(collect)
        dataset_id = dataset_id_for(collect_cfg)
        collect_dump = collect_cfg.model_dump(mode="json")
        stages.append({"kind": "collect", "config": collect_dump})
    assert dataset_id is not None
    runs = sweep_runs(dataset_id, cfg)
    repeated = sorted({r for r in runs.values() if list(runs.values()).count(r) > 1})
    if repeated:
        same = [n for n, r in runs.items() if r in repeated]
        raise ConfigError(f"sweep config: saes: {', '.join(same)} have the same training config")
    stages.append({"kind": "sweep", "config": cfg.model_dump(mode="json")})
    with session_scope() as s:
        if collect_dump is not None:
            get_or_create_dataset(s, dataset_id, collect_dump, name=cfg.name)
        else:
            get_dataset(s, dataset_id)
        for (name, member), run_id in zip(cfg.members(), runs.values(), strict=True):
            get_or_create_run(
                s, run_id, dataset_id, member.model_dump(mode="json"), name=f"{cfg.name}/{name}"
            )
    return _start(stages, dataset_id, None, settings)


def submit_member_followups(
    sweep: ConfigLike, run_ids: dict[str, str], parent_id: str, settings: Settings | None = None
) -> list[Submission]:
    """Evaluate (then analyse) each member's run in its own pipeline, child of the sweep job ``parent_id``."""
    cfg = sweep_config(sweep)
    configs: dict[str, StrictModel] = {}
    if cfg.evaluate is not None:
        configs["evaluate"] = cfg.evaluate
    if cfg.analyse is not None:
        configs["analyse"] = cfg.analyse
    if not configs:
        return []
    out = []
    for run_id in run_ids.values():
        with session_scope() as s:
            dataset_id = get_run(s, run_id).dataset_id
        out.append(_start(_stages(configs), dataset_id, run_id, settings, parent_id=parent_id))
    return out


def submit_evaluation(
    run_id: str, evaluate: ConfigLike | None = None, settings: Settings | None = None
) -> Submission:
    """Evaluate an existing trained run."""
    return _submit_on_run(run_id, "evaluate", evaluate or {}, settings)


def submit_analysis(
    run_id: str, analyse: ConfigLike | None = None, settings: Settings | None = None
) -> Submission:
    """Analyse an existing trained run (replaces its previous analysis)."""
    return _submit_on_run(run_id, "analyse", analyse or {}, settings)


def submit_explanation(
    run_id: str, explain: ConfigLike | None = None, settings: Settings | None = None
) -> Submission:
    """Explain features of an analysed run with the configured LLM (``shared.explain``)."""
    return _submit_on_run(run_id, "explain", explain or {}, settings)


def _submit_on_run(run_id: str, kind: str, cfg: ConfigLike, settings: Settings | None) -> Submission:
    config = _validated(kind, cfg)
    with session_scope() as s:
        run = get_run(s, run_id)
        dataset_id = run.dataset_id
    return _start(_stages({kind: config}), dataset_id, run_id, settings)


# --------------------------------------------------------------------------------------------------------------
# Cancellation and waiting
# --------------------------------------------------------------------------------------------------------------


def cancel_job(job_id: str, settings: Settings | None = None) -> Job:
    """Cancel a job (queued: at once; running: at its next progress report); its pipeline stops there."""
    with session_scope() as s:
        job = request_cancel(s, job_id)
    publish_row(job_id, settings)
    return job


def cancel_pipeline(pipeline_id: str, settings: Settings | None = None) -> list[Job]:
    """Cancel every unfinished job of a pipeline."""
    with session_scope() as s:
        jobs = [j for j in pipeline_jobs(s, pipeline_id) if not JobStatus(j.status).terminal]
    return [cancel_job(j.id, settings) for j in jobs]


def pipeline_done(pipeline_id: str) -> tuple[bool, list[Job]]:
    """(finished?, its jobs): finished when a job failed or was cancelled, or the last stage succeeded."""
    with session_scope() as s:
        pipeline = get_pipeline(s, pipeline_id)
        jobs = pipeline_jobs(s, pipeline_id)
        n_stages = len(pipeline.stages)
    if any(j.status in (JobStatus.failed.value, JobStatus.cancelled.value) for j in jobs):
        return True, jobs
    finished = len(jobs) == n_stages and all(j.status == JobStatus.succeeded.value for j in jobs)
    return finished, jobs


def child_pipelines(job_id: str) -> list[str]:
    """Ids of the pipelines a job started (a sweep: one evaluate/analyse pipeline per member)."""
    with session_scope() as s:
        return [j.pipeline_id for j in child_jobs(s, job_id) if j.pipeline_id is not None]


def wait_for_sweep(pipeline_id: str, timeout: float = 3600.0, poll: float = 0.5) -> list[Job]:
    """Block until a sweep pipeline and the per-run pipelines its sweep job started have finished; all their jobs
    (the sweep pipeline's first). Raises TimeoutError like ``wait_for_pipeline``."""
    deadline = time.monotonic() + timeout
    jobs = wait_for_pipeline(pipeline_id, timeout, poll)
    sweep = [j for j in jobs if j.kind == "sweep" and j.status == JobStatus.succeeded.value]
    for child in child_pipelines(sweep[0].id) if sweep else []:
        jobs += wait_for_pipeline(child, max(deadline - time.monotonic(), 0.0), poll)
    return jobs


def wait_for_pipeline(pipeline_id: str, timeout: float = 3600.0, poll: float = 0.5) -> list[Job]:
    """Block until the pipeline finishes (see ``pipeline_done``); raise TimeoutError with its jobs' states."""
    deadline = time.monotonic() + timeout
    while True:
        done, jobs = pipeline_done(pipeline_id)
        if done:
            return jobs
        if time.monotonic() > deadline:
            states = ", ".join(f"{j.kind}={j.status} ({j.message})" for j in jobs)
            raise TimeoutError(f"pipeline {pipeline_id} not finished after {timeout:.0f}s: {states}")
        time.sleep(poll)
