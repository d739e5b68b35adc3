"""Per-run memos: values derived from a run's analysis, kept beside the response cache (same TTL, same clearing).

Two kinds today: each browsed run's full feature order per sort (a tuple of indices: any page of an unfiltered
explorer listing is then a slice of it plus one lookup of its rows, instead of an ORDER BY over the run and a COUNT;
the rows themselves are read fresh), and a run's labels by index for live inference (analysePrompt names up to
64 x 50 features per request).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

MAX_MEMOS = 72
"""Memos kept: 8 explorer orders (sort x direction) and the labels of a run, so the last 8 runs."""


class RunMemos:
    """A thread-safe LRU of per-run values with a time-to-live; ``ttl_s`` 0 turns it off (every read misses)."""

    def __init__(self, ttl_s: float, max_entries: int = MAX_MEMOS) -> None:
        self.ttl_s = ttl_s
        self._max = max_entries
        self._memos: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: tuple[Any, ...]) -> Any | None:
        """The value kept under ``key``, or None (expired, absent, memos off)."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._memos.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            self._memos.move_to_end(key)
            return entry[1]

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` under ``key`` for ``ttl_s`` seconds (the least recently used go first)."""
        if not self.enabled:
            return
        with self._lock:
            self._memos[key] = (time.monotonic() + self.ttl_s, value)
            self._memos.move_to_end(key)
            while len(self._memos) > self._max:
                self._memos.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._memos.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._memos)
