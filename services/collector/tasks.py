"""Task ``saelab.collect``: collect a dataset's activations, keeping finished shards in the store as they land.

Thin: parse the payload, load the dataset row, restore shards a lost worker already uploaded, call
``services.collector.collect.collect`` with a progress sink, upload the set and its manifest, mark it ready.
A dataset already complete in the store is skipped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from services.collector.celery_app import app
from shared.config import CollectConfig, ConfigError, validate_config
from shared.db.repositories.datasets import get_dataset, mark_dataset_ready
from shared.db.session import session_scope
from shared.jobs.celery_app import run_delivery
from shared.jobs.contracts import COLLECT
from shared.jobs.lifecycle import JobContext
from shared.jobs.pipelines import MULTI_HOOK_REFUSED
from shared.store import ArtifactStore, StoreError, dataset_prefix, get_store

META = "meta.json"


class ShardSync:
    """Uploads finished shards, then meta.json listing them, at most every ``interval`` seconds."""

    def __init__(self, store: ArtifactStore, prefix: str, workdir: Path, interval: float = 5.0) -> None:
        self.store, self.prefix, self.workdir, self.interval = store, prefix, workdir, interval
        self._sent: set[str] = set()
        self._last = time.monotonic()

    def maybe(self) -> None:
        if not self.store.in_place and time.monotonic() - self._last >= self.interval:
            self.sync()

    def sync(self) -> None:
        self._last = time.monotonic()
        meta_path = self.workdir / META
        if not meta_path.is_file():
            return
        meta = json.loads(meta_path.read_text())
        for shard in meta.get("shards", []):
            if shard["file"] not in self._sent:
                self.store.put_file(f"{self.prefix}/{shard['file']}", self.workdir / shard["file"])
                self._sent.add(shard["file"])
        self.store.put_bytes(f"{self.prefix}/{META}", json.dumps(meta, indent=1).encode())


def restore_partial(store: ArtifactStore, prefix: str, workdir: Path) -> int:
    """Bring back the shards a previous (lost) attempt uploaded; returns how many. No-op if work is local."""
    if store.in_place or (workdir / META).is_file() or not store.exists(f"{prefix}/{META}"):
        return 0
    meta = store.get_json(f"{prefix}/{META}")
    shards = meta.get("shards", [])
    for shard in shards:
        store.get_file(f"{prefix}/{shard['file']}", workdir / shard["file"])
    (workdir / META).write_text(json.dumps(meta, indent=1))
    return len(shards)


def run_collect(ctx: JobContext) -> str:
    """Body of ``saelab.collect``."""
    dataset_id = ctx.payload.dataset_id
    store = get_store(ctx.settings)
    prefix = dataset_prefix(dataset_id)
    with session_scope() as s:
        ready = get_dataset(s, dataset_id).status == "ready"
    if ready and store.has_dir(prefix):
        return "skipped: the dataset is already collected"
    workdir = store.workdir(prefix)
    workdir.mkdir(parents=True, exist_ok=True)
    ctx.stage("download", "restoring finished shards")
    restored = restore_partial(store, prefix, workdir)
    cfg = validate_config(
        CollectConfig,
        ctx.config | {"output": str(workdir)},
        source=f"pipeline {ctx.pipeline_id} collect stage",
    )
    if not isinstance(cfg.hook, str):
        raise ConfigError(MULTI_HOOK_REFUSED)
    ctx.stage("collect", f"resuming after {restored} stored shards" if restored else "collecting activations")
    sync = ShardSync(store, prefix, workdir)

    def progress(done: float, total: float, message: str = "") -> None:
        ctx.progress(done, total, message)
        sync.maybe()

    from services.collector.collect import collect

    out = collect(cfg, progress=progress)
    ctx.stage("upload", "uploading the activation set")
    store.put_dir(prefix, out)
    meta = json.loads((out / META).read_text())
    if not meta.get("complete"):
        raise StoreError(f"{out / META}: collection returned an incomplete dataset")
    with session_scope() as s:
        ds = mark_dataset_ready(s, dataset_id, meta)
        tokens, shards = ds.n_tokens, len(meta.get("shards", []))
    return f"collected {tokens} tokens in {shards} shards"


@app.task(name=COLLECT, bind=True)
def collect_task(self, payload: dict) -> str:  # noqa: ANN001 - Celery's bound task
    """Celery entry: one delivery of ``saelab.collect``."""
    return run_delivery(self, COLLECT, payload, run_collect)
