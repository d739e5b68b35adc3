"""`saelab register RUN_DIR`: put a run the CLI stages made into the database and artifact store, as jobs would.

A run directory from ``saelab train`` (then optionally ``evaluate`` and ``analyse``) becomes browsable in
``saelab up``: its activation set, the run, its training curves, eval card and feature records get the same ids,
rows and store layout the job system gives a pipeline with the same configs (``shared.jobs.pipelines`` ids; the
repositories the collect, train, evaluate and analyse tasks call; ``datasets/<id>`` and ``runs/<id>`` in the store,
shards hard-linked when the filesystem allows). Registering again changes nothing unless the directory changed;
an analysis that changed replaces the run's feature rows, as a re-run analysis job does.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli.errors import CliError
from shared.config import CollectConfig, EvaluateConfig, TrainConfig, load_config, validate_config

log = logging.getLogger(__name__)

RUN_FILES = ("cfg.json", "sae.safetensors", "train_config.yaml")
"""What ``saelab train`` writes and registration needs; eval.json, metrics.jsonl and results/ are optional."""


@dataclass
class Registration:
    """What was registered, and what the run still lacks."""

    dataset_id: str
    run_id: str
    d_sae: int
    n_metrics: int = 0
    evaluated: bool = False
    analysed: bool = False
    features_written: int | None = None
    """Feature rows written now; None when the stored analysis was already this one."""
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------------------
# Reading the run directory
# --------------------------------------------------------------------------------------------------------------


def _require_run_dir(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise CliError(f"{run_dir}: no such directory (pass a run directory made by `saelab train`)")
    for name in RUN_FILES:
        if not (run_dir / name).is_file():
            raise CliError(
                f"{run_dir / name}: missing, so {run_dir} is not a finished run directory "
                "(`saelab train` writes cfg.json, sae.safetensors and train_config.yaml when it finishes)"
            )


def _activations_dir(run_dir: Path, train_cfg: TrainConfig, given: Path | None) -> Path:
    """``--activations``, else cfg.json's ``activations_path`` (absolute or run-relative), else the train config's."""
    if given is not None:
        candidates = [given]
    else:
        recorded = json.loads((run_dir / "cfg.json").read_text()).get("activations_path") or ""
        candidates = [Path(recorded), run_dir / recorded] if recorded else []
        candidates.append(Path(train_cfg.activations))
    for path in candidates:
        if (path / "meta.json").is_file():
            return path
    tried = ", ".join(str(p / "meta.json") for p in candidates)
    raise CliError(
        f"no activation set for {run_dir}: {tried} missing; pass --activations DIR "
        "(the folder `saelab collect` wrote)"
    )


def _metrics_rows(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _evaluate_config(result: dict[str, Any]) -> dict[str, Any]:
    """The evaluate config an eval.json came from, as far as it records it (what the evaluate task stores)."""
    keys = {"n_tokens": result.get("n_tokens_requested"), "ce_contexts": result.get("ce_contexts_requested")}
    known = {k: v for k, v in keys.items() if isinstance(v, int) and v > 0}
    return validate_config(EvaluateConfig, known, source="eval.json").model_dump(mode="json")


def _check_match(run_dir: Path, meta: Any, activations: Path) -> None:
    sae_cfg = json.loads((run_dir / "cfg.json").read_text())
    hook, d_in = sae_cfg.get("hook_name"), sae_cfg.get("d_in")
    if (hook, d_in) != (meta.hook, meta.d_in):
        raise CliError(
            f"{activations} holds {meta.hook} (d_in {meta.d_in}) but {run_dir} was trained on "
            f"{hook} (d_in {d_in}); pass --activations with the set it was trained on"
        )


# --------------------------------------------------------------------------------------------------------------
# Registering
# --------------------------------------------------------------------------------------------------------------


def register_run(run_dir: Path, activations: Path | None = None, name: str | None = None) -> Registration:
    """Register ``run_dir`` (and the activation set it was trained on) in the configured database and store."""
    from services.analyser.results import index_results, load_summary
    from services.trainer.tasks import relative_activations_path, trained_steps
    from shared.db.prestart import upgrade
    from shared.db.repositories.datasets import get_or_create_dataset, mark_dataset_ready
    from shared.db.repositories.metrics import upsert_metrics
    from shared.db.repositories.runs import get_or_create_run, mark_run_trained, set_run_eval
    from shared.db.session import session_scope
    from shared.jobs.pipelines import dataset_id_for, run_id_for, stage_identity
    from shared.settings import get_settings
    from shared.shards import ActivationSet, ShardFormatError
    from shared.store import RUN_EXCLUDE, dataset_prefix, get_store, mirror_dir, results_prefix, run_prefix

    run_dir = Path(run_dir)
    _require_run_dir(run_dir)
    train_cfg = load_config(TrainConfig, run_dir / "train_config.yaml")
    act_dir = _activations_dir(run_dir, train_cfg, activations)
    try:
        meta = ActivationSet.open(act_dir, require_complete=True).meta
    except ShardFormatError as err:
        raise CliError(f"{act_dir}: {err}") from None
    _check_match(run_dir, meta, act_dir)
    if not meta.config:
        raise CliError(f"{act_dir / 'meta.json'}: no collect config recorded (collected by an old saelab)")
    collect_cfg = validate_config(CollectConfig, dict(meta.config), source=f"{act_dir / 'meta.json'}: config")
    dataset_id = dataset_id_for(collect_cfg)
    run_id = run_id_for(dataset_id, train_cfg)
    eval_result = (
        json.loads((run_dir / "eval.json").read_text()) if (run_dir / "eval.json").is_file() else None
    )
    results_dir = run_dir / "results"
    summary = load_summary(results_dir) if (results_dir / "summary.json").is_file() else None

    # The store first, then the rows (as the tasks do: a row never points at artifacts that are not there).
    settings = get_settings()
    upgrade(settings.database)
    store = get_store(settings)
    store.put_dir(
        dataset_prefix(dataset_id), mirror_dir(store, dataset_prefix(dataset_id), act_dir, link=True)
    )
    stored_run = mirror_dir(store, run_prefix(run_id), run_dir, exclude=RUN_EXCLUDE)
    relative_activations_path(stored_run, dataset_id)  # as the train task leaves cfg.json
    store.put_dir(run_prefix(run_id), stored_run, exclude=RUN_EXCLUDE)
    results_changed = False
    if summary is not None:
        before = store.manifest(results_prefix(run_id))
        files = store.put_dir(
            results_prefix(run_id), mirror_dir(store, results_prefix(run_id), results_dir, link=True)
        )
        old = {rel: entry["sha256"] for rel, entry in (before or {}).get("files", {}).items()}
        results_changed = old != {rel: info.sha256 for rel, info in files.items()}

    reg = Registration(dataset_id, run_id, int(train_cfg.d_sae))
    steps = trained_steps(run_dir)
    metrics = _metrics_rows(run_dir)
    with session_scope() as s:
        dataset = get_or_create_dataset(
            s, dataset_id, collect_cfg.model_dump(mode="json"), name=name or act_dir.resolve().name
        )
        if dataset.status != "ready" or dataset.meta != meta.to_dict():
            mark_dataset_ready(s, dataset_id, meta.to_dict())
        run = get_or_create_run(
            s, run_id, dataset_id, train_cfg.model_dump(mode="json"), name=name or run_dir.resolve().name
        )
        if name is not None:
            run.name = name
        if run.status != "ready" or run.steps_done != steps:
            mark_run_trained(s, run_id, steps)
        for row in metrics:
            reg.n_metrics += upsert_metrics(s, run_id, int(row["step"]), row)
        if eval_result is not None:
            eval_cfg = _evaluate_config(eval_result)
            if run.eval != eval_result or run.evaluate_config != eval_cfg:
                set_run_eval(s, run_id, eval_result, eval_cfg)
            reg.evaluated = True
        if summary is not None:
            analyse_cfg = dict(summary.config)
            same_config = run.analyse_config is not None and stage_identity(
                "analyse", run.analyse_config
            ) == stage_identity("analyse", analyse_cfg)
            if results_changed or run.analysed_at is None or not same_config:
                counts = index_results(s, run_id, results_dir)
                run.analyse_config = analyse_cfg
                reg.features_written = counts.features
            reg.analysed = True
    if eval_result is None:
        reg.notes.append(f"no eval card: run `saelab evaluate --run {run_dir}`, then register again")
    if summary is None:
        reg.notes.append(f"no feature records: run `saelab analyse --run {run_dir}`, then register again")
    log.info("registered run %s (dataset %s) from %s", run_id, dataset_id, run_dir)
    return reg


# --------------------------------------------------------------------------------------------------------------
# Command
# --------------------------------------------------------------------------------------------------------------


def describe(reg: Registration) -> list[str]:
    """The lines the CLI prints about a registration."""
    from shared.settings import get_settings

    where = get_settings().database if "@" not in get_settings().database else "the configured database"
    parts = [f"{reg.d_sae} features"]
    if reg.evaluated:
        parts.append("eval card")
    if reg.analysed:
        parts.append("feature records" + ("" if reg.features_written is not None else " (unchanged)"))
    lines = [f"registered run {reg.run_id} (dataset {reg.dataset_id}; {', '.join(parts)}) in {where}"]
    return lines + reg.notes


def cmd_register(args: argparse.Namespace) -> None:
    reg = register_run(args.run_dir, args.activations, args.name)
    for line in describe(reg):
        print(line)
    print(f"browse it: `saelab up`, then http://127.0.0.1:8000/?run={reg.run_id}")


def add_register_command(sub: Any) -> None:
    """Register `saelab register` on the CLI's subparsers."""
    p = sub.add_parser(
        "register",
        help="put a run directory (saelab train / evaluate / analyse output) into the database for `saelab up`",
    )
    p.add_argument("run_dir", type=Path, help="run directory written by `saelab train`")
    p.add_argument(
        "--activations",
        type=Path,
        help="the activation set it was trained on (default: the path recorded in the run's cfg.json)",
    )
    p.add_argument("--name", help="run name shown in the dashboard (default: the run directory's name)")
    p.set_defaults(fn=cmd_register)
