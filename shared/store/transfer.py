"""Moving datasets, runs and checkpoints between the store and a worker's working directory."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from shared.store.base import (
    MANIFEST,
    ArtifactStore,
    ObjectInfo,
    checkpoints_prefix,
    dataset_prefix,
    run_prefix,
    walk_files,
)

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


def mirror_dir(
    store: ArtifactStore, prefix: str, source: Path, *, link: bool = False, exclude: tuple[str, ...] = ()
) -> Path:
    """Make the worker directory of ``prefix`` hold exactly the files of ``source`` (``exclude`` aside); return it.

    For a directory made outside the store (``saelab register``): the caller may adjust the copy, then
    ``store.put_dir(prefix, <returned dir>)`` records checksums and the manifest (the local store keeps the files
    where they are; S3 uploads them). With ``link`` files are hard-linked where the filesystem allows (no second
    copy of large shards; a writer that replaces a file atomically leaves the linked content as it was), else
    copied. Files under ``prefix`` that ``source`` lacks are deleted, so the stored directory is ``source``'s.
    """
    source = Path(source).resolve()
    target = store.workdir(prefix)
    wanted = {
        p.relative_to(source).as_posix(): p
        for p in walk_files(source)
        if not p.relative_to(source).as_posix().startswith(exclude)
    }
    if target.resolve() != source:
        for rel, path in wanted.items():
            _place(path, target / rel, link)
    for key in store.keys(prefix):
        rel = key[len(prefix.strip("/")) + 1 :]
        if rel not in wanted and rel != MANIFEST and not rel.startswith(exclude):
            store.delete(key)
    if target.is_dir():
        for path in list(walk_files(target)):
            rel = path.relative_to(target).as_posix()
            if rel not in wanted and not rel.startswith(exclude):
                path.unlink()
    return target


def _place(path: Path, dest: Path, link: bool) -> None:
    """Put ``path``'s content at ``dest`` atomically: a hard link when ``link`` and possible, else a copy."""
    if dest.exists() and os.path.samefile(path, dest):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    if link:
        try:
            os.link(path, tmp)
        except OSError as err:  # another filesystem, or links not allowed: copy instead
            log.info("hard link %s -> %s failed (%s); copying", path, dest, err)
            shutil.copyfile(path, tmp)
    else:
        shutil.copyfile(path, tmp)
    os.replace(tmp, dest)
