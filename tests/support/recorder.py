"""Record live events (shared.events) from a background thread while a test drives the system."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any


class EventRecorder:
    """Subscribes to ``channels`` on the configured bus in a thread; ``events`` fills as they arrive."""

    def __init__(self, *channels: str) -> None:
        self.channels = channels
        self.events: list[Any] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="event-recorder", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from shared.jobs.events import LocalBus, get_bus

        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()  # type: ignore[assignment]
        bus = get_bus()
        stream = bus.subscribe(*self.channels).__aiter__()
        first = asyncio.ensure_future(stream.__anext__())
        try:
            await self._until_subscribed(bus, LocalBus)
            self._ready.set()
            self.events.append(await first)
            while True:
                self.events.append(await stream.__anext__())
        except asyncio.CancelledError:
            first.cancel()
        except BaseException as err:  # surfaced by stop()
            self.error = err
            self._ready.set()
        finally:
            await stream.aclose()

    async def _until_subscribed(self, bus: Any, local_bus: type) -> None:
        for _ in range(500):
            await asyncio.sleep(0.01)
            if isinstance(bus, local_bus):
                if all(bus.subscriber_count(ch) for ch in self.channels):
                    return
            else:
                counts = dict(bus._client.pubsub_numsub(*self.channels))
                if all(counts.get(ch.encode(), 0) for ch in self.channels):
                    return
        raise TimeoutError(f"subscription to {self.channels} did not start")

    def __enter__(self) -> EventRecorder:
        self._thread.start()
        if not self._ready.wait(15):
            raise TimeoutError("event recorder did not start")
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)  # let in-flight events land
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)
        if self.error is not None:
            raise self.error

    def of_type(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]
