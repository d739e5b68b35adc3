"""Moving datasets, runs and checkpoints between the store and a worker's working directory."""

from __future__ import annotations

import logging
from pathlib import Path

from shared.store.base import ArtifactStore, ObjectInfo, checkpoints_prefix, dataset_prefix, run_prefix

log = logging.getLogger(__name__)


RUN_EXCLUDE = ("checkpoints/", "results/")
"""Parts of a run directory with their own prefixes (and manifests), left out of the run's manifest."""


def fetch_dataset(store: ArtifactStore, dataset_id: str) -> Path:
    """The complete activation set ``dataset_id`` in this worker's directory (downloaded when needed)."""
    prefix = dataset_prefix(dataset_id)
    return store.get_dir(prefix, store.workdir(prefix))


def fetch_run(store: ArtifactStore, run_id: str) -> Path:
    """The trained run ``run_id`` (weights, cfg, metrics, eval) in this worker's directory."""
    prefix = run_prefix(run_id)
    return store.get_dir(prefix, store.workdir(prefix))


def publish_run(store: ArtifactStore, run_id: str, run_dir: Path) -> dict[str, ObjectInfo]:
    """Upload a run directory (checkpoints and results excluded) and its manifest."""
    return store.put_dir(run_prefix(run_id), run_dir, exclude=RUN_EXCLUDE)


def checkpoint_step(name: str) -> int | None:
    """The step of a checkpoint directory name ``step-<N>``, or None for anything else."""
    head, _, tail = name.partition("-")
    return int(tail) if head == "step" and tail.isdigit() else None


def fetch_latest_checkpoint(store: ArtifactStore, run_id: str, run_dir: Path) -> int | None:
    """Download the newest complete checkpoint of a run into ``run_dir/checkpoints``; its step, or None."""
    prefix = checkpoints_prefix(run_id)
    steps = {step: name for name in store.subdirs(prefix) if (step := checkpoint_step(name)) is not None}
    if not steps:
        return None
    step = max(steps)
    store.get_dir(f"{prefix}/{steps[step]}", Path(run_dir) / "checkpoints" / steps[step])
    return step


def fetch_checkpoints(store: ArtifactStore, run_id: str, run_dir: Path) -> list[int]:
    """Download every stored checkpoint of a run into ``run_dir/checkpoints`` (a sweep resumes from the newest step
    all its members have); their steps, ascending."""
    prefix = checkpoints_prefix(run_id)
    steps = {step: name for name in store.subdirs(prefix) if (step := checkpoint_step(name)) is not None}
    for name in steps.values():
        store.get_dir(f"{prefix}/{name}", Path(run_dir) / "checkpoints" / name)
    return sorted(steps)


def upload_checkpoint(store: ArtifactStore, run_id: str, ckpt_dir: Path) -> None:
    """Upload one checkpoint directory, then drop stored checkpoints the trainer no longer keeps locally."""
    ckpt_dir = Path(ckpt_dir)
    prefix = checkpoints_prefix(run_id)
    store.put_dir(f"{prefix}/{ckpt_dir.name}", ckpt_dir)
    kept = {p.name for p in ckpt_dir.parent.iterdir() if p.is_dir()}
    stored = {key[len(prefix) + 1 :].split("/")[0] for key in store.keys(prefix)}
    for name in stored - kept:
        if checkpoint_step(name) is not None:
            store.delete_prefix(f"{prefix}/{name}")
