"""Response cache for the read-only feature queries (explorer pages, feature detail, search, neighbours).

An analysed run's features only change when it is relabelled or re-analysed, so a successful result of a query
whose root fields are all in ``CACHEABLE`` is kept for ``ttl_s`` seconds, keyed by the query text, its variables
and whether the caller is authenticated. A relabel in this process and every finished analysis job (a live event,
so every gateway replica sees it) clear the whole cache; the TTL bounds staleness across replicas otherwise.
Live data (jobs, runs, training curves, prompt inference) is never cached.

Beside whole results it keeps per-run memos under the same TTL and clearing: each browsed run's full feature order
per sort (a tuple of indices: any page of an unfiltered explorer listing is then a slice of it plus one lookup of
its rows, instead of an ORDER BY over the run and a COUNT; the rows themselves are read fresh), and a run's labels
by index for live inference (analysePrompt names up to 64 x 50 features per request).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

CACHEABLE = frozenset({"features", "feature", "search", "tokenFeatures", "similarFeatures", "serverInfo"})
"""Root fields whose results depend only on analysis results (and labels)."""

MAX_MEMOS = 72
"""Cached per-run values: 8 explorer orders (sort x direction) and the labels of a run, so the last 8 runs."""


@lru_cache(maxsize=512)
def cacheable_query(query: str, operation_name: str | None) -> bool:
    """True when the (single) operation is a query and every root field is in ``CACHEABLE``."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [op for op in operations if op.name is not None and op.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return False
    selections = operations[0].selection_set.selections
    return all(isinstance(s, FieldNode) and s.name.value in CACHEABLE for s in selections)


class ResponseCache:
    """A thread-safe LRU of results with a time-to-live; ``clear()`` drops everything."""

    def __init__(self, ttl_s: float, max_entries: int = 4096) -> None:
        self.ttl_s = ttl_s
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str, str | None, bool], tuple[float, Any]] = OrderedDict()
        self._memos: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def key(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None, authenticated: bool
    ) -> tuple[str, str, str | None, bool] | None:
        """The cache key of an operation, or None when it must not be cached."""
        if not self.enabled or not cacheable_query(query, operation_name):
            return None
        try:
            return (query, json.dumps(variables or {}, sort_keys=True), operation_name, authenticated)
        except (TypeError, ValueError):
            return None

    def get(self, key: tuple[str, str, str | None, bool]) -> Any | None:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple[str, str, str | None, bool], value: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl_s, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._memos.clear()

    def memo(self, key: tuple[Any, ...]) -> Any | None:
        """A cached per-run value (a feature order, the run's labels), or None (expired, absent, cache off)."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._memos.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            self._memos.move_to_end(key)
            return entry[1]

    def put_memo(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep a per-run value under the same TTL and clearing as the responses (the last few runs only)."""
        if not self.enabled:
            return
        with self._lock:
            self._memos[key] = (time.monotonic() + self.ttl_s, value)
            self._memos.move_to_end(key)
            while len(self._memos) > MAX_MEMOS:
                self._memos.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
