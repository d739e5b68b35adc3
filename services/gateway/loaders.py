"""Per-request DataLoaders: every field that needs rows for many parents issues one batched query.

Queries started in the same event-loop turn (a feature detail's examples, neighbours, logit lens and extras
loaders all dispatch together) run together with one session, either in one worker-thread hop (a networked
database) or inline on the event loop (SQLite, see ``GatewaySettings.db_reads``): under load a hop (thread wake-up,
GIL hand-offs, session checkout) cost more CPU than the small indexed reads it carried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader

from shared.db.repositories.datasets import datasets_by_id
from shared.db.repositories.features import (
    examples_by_key,
    extras_by_key,
    feature_stats_of_runs,
    features_by_key,
    logits_by_key,
    neighbours_by_key,
)
from shared.db.repositories.jobs import jobs_by_id, latest_train_jobs
from shared.db.repositories.labels import labels_by_key
from shared.db.repositories.metrics import metrics_of_runs
from shared.db.repositories.pipelines import jobs_of_pipelines, pipelines_by_id
from shared.db.repositories.runs import runs_by_id

T = TypeVar("T")
K = TypeVar("K")
_Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
"""A pending query: the function, its arguments after the session, the caller's future."""


class _Lazy(Generic[K, T]):
    """A DataLoader attribute over a batch function, created on first use per ``Loaders`` (a request touches two
    or three of the fourteen)."""

    def __init__(self, batch: Callable[[Session, Sequence[K]], Sequence[T]]) -> None:
        self.batch = batch
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, loaders: Loaders, owner: type | None = None) -> DataLoader[K, T]:
        loader = loaders._loader(self.batch)
        loaders.__dict__[self.name] = loader  # later reads find the instance attribute first
        return loader


class Loaders:
    """DataLoaders over one session factory; a new instance per request so caches never outlive it."""

    def __init__(self, session_factory: Callable[[], Session], inline: bool = False) -> None:
        self._session_factory = session_factory
        self._inline = inline
        self._pending: list[_Call] = []
        self._tasks: set[asyncio.Future[None]] = set()

    runs = _Lazy(runs_by_id)
    datasets = _Lazy(datasets_by_id)
    jobs = _Lazy(jobs_by_id)
    pipelines = _Lazy(pipelines_by_id)
    pipeline_jobs = _Lazy(jobs_of_pipelines)
    train_jobs = _Lazy(latest_train_jobs)
    metrics = _Lazy(metrics_of_runs)
    feature_stats = _Lazy(feature_stats_of_runs)
    features = _Lazy(features_by_key)
    examples = _Lazy(examples_by_key)
    neighbours = _Lazy(neighbours_by_key)
    logits = _Lazy(logits_by_key)
    labels = _Lazy(labels_by_key)
    extras = _Lazy(extras_by_key)

    def forget_job(self, job_id: str) -> None:
        """Drop cached rows of a job or pipeline so the next load reads the database again."""
        for loader in (self.jobs, self.pipelines, self.pipeline_jobs):
            if loader.cache_map.get(job_id) is not None:
                loader.clear(job_id)

    async def query(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(session, *args)`` with a fresh read-only session, after the current event-loop turn; the calls
        made in the same turn share the session and the thread hop (each gets its own result or exception)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((fn, args, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        calls, self._pending = self._pending, []
        if self._inline:
            self._settle(calls, self._call_all(calls))
            return
        task = asyncio.ensure_future(self._in_thread(calls))
        self._tasks.add(task)  # keep a reference until done (the loop only holds weak ones)
        task.add_done_callback(self._tasks.discard)

    async def _in_thread(self, calls: list[_Call]) -> None:
        try:
            outcomes = await asyncio.to_thread(self._call_all, calls)
        except Exception as err:  # noqa: BLE001 - the hop itself failed: every caller gets the error
            outcomes = [(False, err)] * len(calls)
        self._settle(calls, outcomes)

    def _call_all(self, calls: list[_Call]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        try:
            session = self._session_factory()
        except Exception as err:  # noqa: BLE001 - handed to every caller
            return [(False, err)] * len(calls)
        with session:
            for fn, args, _ in calls:
                try:
                    outcomes.append((True, fn(session, *args)))
                except Exception as err:  # noqa: BLE001 - handed to that call's awaiting resolver
                    # a failed statement must not poison the next call's transaction; rows already handed to
                    # other calls leave the session first, so the rollback cannot expire them (one field's
                    # error never nulls its siblings)
                    session.expunge_all()
                    session.rollback()
                    outcomes.append((False, err))
        return outcomes

    @staticmethod
    def _settle(calls: list[_Call], outcomes: list[tuple[bool, Any]]) -> None:
        for (_, _, future), (ok, value) in zip(calls, outcomes, strict=True):
            if future.done():  # the caller was cancelled (request timeout)
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _loader(self, batch: Callable[[Session, Sequence[K]], Sequence[T]]) -> DataLoader[K, T]:
        async def load(keys: list[K]) -> Sequence[T]:
            return await self.query(batch, keys)

        return _SharedLoader(load_fn=load)


class _SharedLoader(DataLoader[K, T]):
    """A DataLoader whose ``load`` hands each caller a shield of the shared future: a caller that is cancelled (a
    sibling field failed and graphql-core cancelled its branch) no longer cancels the future every other caller of
    the same key awaits (their CancelledError escaped GraphQL as an HTTP 500)."""

    def load(self, key: K) -> Awaitable[T]:  # type: ignore[override]
        return asyncio.shield(super().load(key))
