"""Live events: job status/progress and training metrics, published by tasks, consumed as async iterators.

Distributed, events go through Redis pub/sub (``SAELAB_EVENTS_URL``, default the Redis broker); embedded, through
an in-process bus. The gateway's GraphQL subscriptions consume ``subscribe_job(job_id)``, ``subscribe_jobs()`` and
``subscribe_metrics(run_id)``. Events are a live view only: the database stays the record, so a subscriber
reads the current state first and then follows the stream. Publishing never fails a job: a broken event
transport is logged and the task carries on.

Channels: ``saelab:job:<job_id>`` (one job), ``saelab:jobs`` (every job), ``saelab:metrics:<run_id>``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

JOBS_CHANNEL = "saelab:jobs"


def job_channel(job_id: str) -> str:
    """Channel of one job's updates."""
    return f"saelab:job:{job_id}"


def metrics_channel(run_id: str) -> str:
    """Channel of one run's training metrics."""
    return f"saelab:metrics:{run_id}"


class JobEvent(BaseModel):
    """A job's state after a change: status, progress 0..1, stage, message, error."""

    type: Literal["job"] = "job"
    job_id: str
    kind: str
    status: str
    progress: float
    stage: str = ""
    message: str = ""
    error: str | None = None
    attempts: int = 0
    pipeline_id: str | None = None
    dataset_id: str | None = None
    run_id: str | None = None
    ts: float = Field(default_factory=time.time)


class MetricsEvent(BaseModel):
    """One logged training step of a run: ``values`` maps metric name -> value."""

    type: Literal["metrics"] = "metrics"
    run_id: str
    step: int
    values: dict[str, float]
    ts: float = Field(default_factory=time.time)


Event = JobEvent | MetricsEvent


def parse_event(raw: str | bytes) -> Event:
    """Decode a published event."""
    data = json.loads(raw)
    return (
        MetricsEvent.model_validate(data) if data.get("type") == "metrics" else JobEvent.model_validate(data)
    )


# --------------------------------------------------------------------------------------------------------------
# Buses
# --------------------------------------------------------------------------------------------------------------


class EventBus(ABC):
    """Publish to channels (from any thread); subscribe from asyncio code."""

    @abstractmethod
    def publish(self, channels: list[str], event: Event) -> None:
        """Deliver ``event`` to every subscriber of any of ``channels``."""

    @abstractmethod
    def subscribe(self, *channels: str) -> AsyncIterator[Event]:
        """Events published to ``channels`` from now on, until the iterator is closed."""


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event]


class LocalBus(EventBus):
    """In-process bus: thread-safe publish, per-subscriber bounded queues (the oldest event dropped when full)."""

    def __init__(self, max_queue: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[_Subscriber]] = {}
        self._max_queue = max_queue

    def publish(self, channels: list[str], event: Event) -> None:
        with self._lock:
            targets = {sub for ch in channels for sub in self._subs.get(ch, ())}
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(self._put, sub.queue, event)
            except RuntimeError:  # the subscriber's loop is closed; it unsubscribes when its generator ends
                log.debug("dropping event for a subscriber whose loop is closed")

    @staticmethod
    def _put(queue: asyncio.Queue[Event], event: Event) -> None:
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(event)

    async def subscribe(self, *channels: str) -> AsyncIterator[Event]:  # type: ignore[override]
        sub = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(self._max_queue))
        with self._lock:
            for ch in channels:
                self._subs.setdefault(ch, set()).add(sub)
        try:
            while True:
                yield await sub.queue.get()
        finally:
            with self._lock:
                for ch in channels:
                    self._subs.get(ch, set()).discard(sub)

    def subscriber_count(self, channel: str) -> int:
        """Subscribers currently listening on ``channel`` (tests use it to avoid racing a subscription)."""
        with self._lock:
            return len(self._subs.get(channel, ()))


class RedisBus(EventBus):
    """Redis pub/sub: a synchronous client publishes, ``redis.asyncio`` subscribes."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def publish(self, channels: list[str], event: Event) -> None:
        data = event.model_dump_json()
        pipe = self._client.pipeline(transaction=False)
        for ch in channels:
            pipe.publish(ch, data)
        pipe.execute()

    async def subscribe(self, *channels: str) -> AsyncIterator[Event]:  # type: ignore[override]
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*channels)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield parse_event(message["data"])
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()
            await client.aclose()


_bus_lock = threading.Lock()
_buses: dict[str, EventBus] = {}


def reset_buses() -> None:
    """Forget every bus: the next publish or subscribe builds one from the settings (for tests that switch them)."""
    with _bus_lock:
        _buses.clear()


def get_bus(settings: Settings | None = None) -> EventBus:
    """Redis when the settings name an events/broker Redis, else the process-wide in-process bus."""
    settings = settings or get_settings()
    key = settings.events or "local"
    with _bus_lock:
        if key not in _buses:
            _buses[key] = LocalBus() if key == "local" else RedisBus(key)
        return _buses[key]


# --------------------------------------------------------------------------------------------------------------
# What tasks publish and what the gateway subscribes to
# --------------------------------------------------------------------------------------------------------------


def _publish(channels: list[str], event: Event, settings: Settings | None) -> None:
    try:
        get_bus(settings).publish(channels, event)
    except Exception as err:  # events are a live view; the database already has the state
        log.warning("could not publish %s event on %s: %s", event.type, channels[0], err)


def publish_job(event: JobEvent, settings: Settings | None = None) -> None:
    """Publish a job's new state to its channel and the all-jobs channel."""
    _publish([job_channel(event.job_id), JOBS_CHANNEL], event, settings)


def publish_metrics(run_id: str, step: int, values: dict[str, Any], settings: Settings | None = None) -> None:
    """Publish one logged training step (non-numeric and non-finite values are left out)."""
    numeric = {
        k: float(v)
        for k, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
    _publish([metrics_channel(run_id)], MetricsEvent(run_id=run_id, step=step, values=numeric), settings)


def subscribe_job(job_id: str, settings: Settings | None = None) -> AsyncIterator[Event]:
    """Updates of one job (``JobEvent``s) as they happen."""
    return get_bus(settings).subscribe(job_channel(job_id))


def subscribe_jobs(settings: Settings | None = None) -> AsyncIterator[Event]:
    """Updates of every job."""
    return get_bus(settings).subscribe(JOBS_CHANNEL)


def subscribe_metrics(run_id: str, settings: Settings | None = None) -> AsyncIterator[Event]:
    """Training metrics of one run (``MetricsEvent``s), one per logged step."""
    return get_bus(settings).subscribe(metrics_channel(run_id))
