"""Progress reporting: one callable signature for CLI bars, worker job rows and silent tests.

Long-running functions take ``progress: ProgressSink | None`` and call it as ``progress(done, total, message)``
with absolute counts in their own unit (tokens, steps, features). The CLI passes a tqdm bar (which shows the rate,
e.g. tokens/s), Celery tasks pass a rate-limited sink that writes the job's progress to the database and publishes
a live event, tests pass nothing.
"""

from __future__ import annotations

import time
from typing import Protocol


class ProgressSink(Protocol):
    """Receives absolute progress: ``done`` of ``total`` units, with an optional short message."""

    def __call__(self, done: float, total: float, message: str = "") -> None: ...


def report(progress: ProgressSink | None, done: float, total: float, message: str = "") -> None:
    """Call ``progress`` when one was given (so callers need no ``if``)."""
    if progress is not None:
        progress(done, total, message)


class TqdmProgress:
    """A tqdm bar driven by absolute counts; shows the rate in ``unit``/s."""

    def __init__(self, desc: str, unit: str = "it") -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(desc=desc, unit=unit, unit_scale=True, dynamic_ncols=True)

    def __call__(self, done: float, total: float, message: str = "") -> None:
        if self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)
        if message:
            self._bar.set_postfix_str(message, refresh=False)

    def close(self) -> None:
        self._bar.close()


class Throttled:
    """Forward at most one update per ``interval`` seconds to ``sink`` (always the first and the last)."""

    def __init__(self, sink: ProgressSink, interval: float = 1.0) -> None:
        self._sink = sink
        self._interval = interval
        self._last = float("-inf")

    def __call__(self, done: float, total: float, message: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= self._interval:
            self._last = now
            self._sink(done, total, message)
