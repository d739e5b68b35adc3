"""Per-request DataLoaders: every field that needs rows for many parents issues one batched query, in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader

from services.gateway import data

T = TypeVar("T")
K = TypeVar("K")


class Loaders:
    """DataLoaders over one session factory; a new instance per request so caches never outlive it."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory
        self.runs = self._loader(data.runs_by_id)
        self.datasets = self._loader(data.datasets_by_id)
        self.jobs = self._loader(data.jobs_by_id)
        self.pipelines = self._loader(data.pipelines_by_id)
        self.pipeline_jobs = self._loader(data.jobs_of_pipelines)
        self.train_jobs = self._loader(data.latest_train_jobs)
        self.metrics = self._loader(data.metrics_of_runs)
        self.feature_stats = self._loader(data.feature_stats_of_runs)
        self.features = self._loader(data.features_by_key)
        self.examples = self._loader(data.examples_by_key)
        self.neighbours = self._loader(data.neighbours_by_key)
        self.logits = self._loader(data.logits_by_key)
        self.labels = self._loader(data.labels_by_key)
        self.extras = self._loader(data.extras_by_key)

    def forget_job(self, job_id: str) -> None:
        """Drop cached rows of a job or pipeline so the next load reads the database again."""
        for loader in (self.jobs, self.pipelines, self.pipeline_jobs):
            if loader.cache_map.get(job_id) is not None:
                loader.clear(job_id)

    async def query(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in a worker thread with a fresh session (read-only, closed after)."""
        return await asyncio.to_thread(self._call, fn, *args)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        with self._session_factory() as session:
            return fn(session, *args)

    def _loader(self, batch: Callable[[Session, Sequence[K]], Sequence[T]]) -> DataLoader[K, T]:
        async def load(keys: list[K]) -> Sequence[T]:
            return await self.query(batch, keys)

        return DataLoader(load_fn=load)
