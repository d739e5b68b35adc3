"""Response cache for the read-only feature queries (explorer pages, feature detail, search, neighbours).

An analysed run's features only change when it is relabelled or re-analysed, so the answer to a query whose root
fields are all in ``CACHEABLE`` is kept for ``ttl_s`` seconds when it has no errors, keyed by the query text, its
variables and whether the caller is authenticated. A relabel in this process and every finished analysis job (a
live event, so every gateway replica sees it) clear the whole cache; the TTL bounds staleness across replicas
otherwise. Live data (jobs, runs, training curves, prompt inference) is never cached.

The answers are kept as the encoded HTTP body and served by ``CachedQueries``, an ASGI middleware in front of
FastAPI and Strawberry: a hit costs a dictionary lookup and one write (no routing, context, execution or JSON
encoding), and bytes are invisible to the garbage collector, whose full collections over thousands of cached
result trees were the explorer's slowest requests.

The per-run memos (``memos.RunMemos``) share the TTL and the clearing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from services.gateway.asgi import App, Message, PathMiddleware, Receive, Scope, Send, replay, send_json

CACHEABLE = frozenset({"features", "feature", "search", "tokenFeatures", "similarFeatures", "serverInfo"})
"""Root fields whose results depend only on analysis results (and labels)."""


MAX_CACHEABLE_QUERY_CHARS = 8192
"""Longest query text whose answer may be cached (the web client's queries are ~1 kB)."""


@lru_cache(maxsize=512)
def cacheable_query(query: str, operation_name: str | None) -> bool:
    """True when the (single) operation is a query and every root field is in ``CACHEABLE`` (documents longer
    than ``MAX_CACHEABLE_QUERY_CHARS`` never are: this memo stays small)."""
    if len(query) > MAX_CACHEABLE_QUERY_CHARS:
        return False
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


MAX_CACHE_BYTES = 32 * 1024 * 1024
"""Bytes of answers (and their keys) the response cache holds at most."""

Key = tuple[str, bytes, str | None, bool]
"""(query text, canonical variables JSON, operation name, authenticated)."""


class ResponseCache:
    """A thread-safe LRU of encoded answers with a time-to-live, bounded by entries and by bytes (answers plus
    keys); expired entries at the old end leave on every put; ``clear()`` drops everything."""

    def __init__(self, ttl_s: float, max_entries: int = 8192, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.ttl_s = ttl_s
        self._max = max_entries
        self._max_bytes = max_bytes
        self.used = 0
        self._entries: OrderedDict[Key, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def key(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None, authenticated: bool
    ) -> Key | None:
        """The cache key of an operation, or None when it must not be cached."""
        if not self.enabled or not cacheable_query(query, operation_name):
            return None
        try:
            canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            return None
        return (query, canonical, operation_name, authenticated)

    def get(self, key: Key) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < now:
                del self._entries[key]
                self.used -= _cost(key, entry[1])
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Key, value: bytes) -> None:
        now = time.monotonic()
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.used -= _cost(key, old[1])
            self._entries[key] = (now + self.ttl_s, value)
            self.used += _cost(key, value)
            while self._entries and (
                len(self._entries) > self._max
                or self.used > self._max_bytes
                or next(iter(self._entries.values()))[0] < now
            ):
                oldest, (_, answer) = self._entries.popitem(last=False)
                self.used -= _cost(oldest, answer)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.used = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _cost(key: Key, value: bytes) -> int:
    return len(value) + len(key[0]) + len(key[1]) + 200


# --------------------------------------------------------------------------------------------------------------
# The HTTP front
# --------------------------------------------------------------------------------------------------------------

MAX_CACHED_REQUEST_BYTES = 64 * 1024
"""Larger requests are never cached, and the cache stops reading them there (no read query is that long)."""


class CachedQueries(PathMiddleware):
    """ASGI middleware: ``POST /graphql`` of a cacheable query is answered from ``cache()`` when present, and a
    successful answer (HTTP 200, JSON, no ``errors``) is stored on the way out. Everything else passes through
    untouched. ``cache`` and ``authenticated`` are looked up per request (the gateway state is built at startup)."""

    def __init__(
        self,
        app: App,
        cache: Callable[[], ResponseCache | None],
        authenticated: Callable[[str | None], bool],
        path: str = "/graphql",
    ) -> None:
        super().__init__(app, path)
        self.cache = cache
        self.authenticated = authenticated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.cache() if scope["type"] == "http" and scope["method"] == "POST" else None
        headers = dict(scope["headers"]) if cache is not None else {}
        json_body = headers.get(b"content-type", b"").startswith(b"application/json")
        if cache is None or not cache.enabled or scope["path"] != self.path or not json_body:
            await self.app(scope, receive, send)  # uploads (multipart), GET, websockets: untouched
            return
        body, complete = await _read_body(receive)
        cacheable = complete and len(body) <= MAX_CACHED_REQUEST_BYTES
        key = self._key(headers, body, cache) if cacheable else None
        if key is not None:
            hit = cache.get(key)
            if hit is not None:
                await send_json(send, hit)
                return
        await self.app(
            scope, replay(body, receive, complete), send if key is None else _Capture(send, cache, key)
        )

    def _key(self, headers: dict[bytes, bytes], body: bytes, cache: ResponseCache) -> Key | None:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None  # Strawberry answers the error
        if not isinstance(payload, dict):
            return None
        query, variables, operation = (
            payload.get("query"),
            payload.get("variables"),
            payload.get("operationName"),
        )
        if not isinstance(query, str) or not isinstance(variables, dict | None):
            return None
        if not isinstance(operation, str | None):
            return None
        authorization = headers.get(b"authorization")
        authenticated = self.authenticated(authorization.decode("latin-1") if authorization else None)
        return cache.key(query, variables, operation, authenticated)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and False when it is larger than ``MAX_CACHED_REQUEST_BYTES`` (then only a prefix)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # a disconnect: let the app see it
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_CACHED_REQUEST_BYTES:
            return b"".join(chunks), False


class _Capture:
    """A ``send`` that forwards everything and keeps a successful JSON answer in the cache."""

    def __init__(self, send: Send, cache: ResponseCache, key: Key) -> None:
        self._send = send
        self._cache = cache
        self._key = key
        self._ok = False
        self._chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers", [])).get(b"content-type", b"")
            self._ok = message["status"] == 200 and content_type.startswith(b"application/json")
        elif message["type"] == "http.response.body" and self._ok:
            self._chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self._store(b"".join(self._chunks))
        await self._send(message)

    def _store(self, body: bytes) -> None:
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            return
        if isinstance(answer, dict) and answer.get("data") is not None and not answer.get("errors"):
            self._cache.put(self._key, body)
