"""The request guard: sizes, JSON shape and GraphQL token counts checked before anything is parsed or cached.

An ASGI middleware in front of the response cache and Strawberry. ``POST /graphql`` (and ``GET /graphql?query=``)
is refused with a JSON GraphQL error (``extensions.code`` BAD_INPUT, HTTP 413 or 400) when

- the body is larger than ``max_body_bytes`` (``Content-Length`` checked first, then counted while reading);
- a JSON body is not UTF-8, not JSON (NaN/Infinity, lone surrogates and numbers beyond a double included), not
  one object, nested deeper than ``max_json_depth``, or has ``query``/``variables``/``operationName``/
  ``extensions`` of the wrong type;
- the ``query`` document is longer than ``max_document_bytes`` or has more than ``max_tokens`` GraphQL tokens
  (counted with the lexer, which stops at the limit: no syntax tree is ever built for an oversized document).

Websocket messages larger than ``max_body_bytes`` close the socket (1009, message too big), and messages that are
not strict JSON close it with graphql-transport-ws's 4400. Which client a request
comes from (for the rate limit) is ``client_address``: proxy headers count only from ``trusted_proxies``.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qs

import orjson
from graphql import GraphQLError
from graphql.language import Lexer, Source, TokenKind

from services.gateway.asgi import (
    App,
    Message,
    PathMiddleware,
    Receive,
    Scope,
    Send,
    header,
    replay,
    send_json,
)

log = logging.getLogger(__name__)

ACCEPTED_CHARS = 1 << 20
"""Characters of accepted documents remembered (so they are not lexed again)."""


class Refused(Exception):
    """A request the guard refuses: the HTTP status, a message for the client and ``extensions``."""

    def __init__(self, status: int, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.extensions = {"code": "BAD_INPUT", **extensions}


def _document_refused(status: int, what: str, limit: int) -> Refused:
    """The refusal of a GraphQL document past one of its limits: ``what`` it is or has (the field is ``query``)."""
    return Refused(status, f"query: the document {what}", field="query", limit=limit)


class RequestGuard(PathMiddleware):
    """ASGI middleware enforcing the limits of the module docstring on ``path``."""

    def __init__(
        self,
        app: App,
        max_body_bytes: int,
        max_document_bytes: int,
        max_tokens: int,
        max_json_depth: int,
        path: str = "/graphql",
    ) -> None:
        super().__init__(app, path)
        self.max_body_bytes = max_body_bytes
        self.max_document_bytes = max_document_bytes
        self.max_tokens = max_tokens
        self.max_json_depth = max_json_depth
        self._accepted: OrderedDict[str, None] = OrderedDict()
        self._accepted_chars = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await self.app(scope, self._bounded_websocket(receive, send), send)
            return
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] == "GET":
                self._check_get(scope)
                await self.app(scope, receive, send)
                return
            if scope["method"] != "POST":
                await self.app(scope, receive, send)
                return
            body = await self._read_body(scope, receive)
            if header(scope, b"content-type").startswith(b"application/json"):
                self._check_json(body)
        except Refused as refused:
            await _refuse(send, refused)
            return
        except _Disconnected:
            return
        await self.app(scope, replay(body, receive), send)

    # --- checks ---------------------------------------------------------------------------------------------

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large(int(declared))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large(size)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, size: int) -> Refused:
        return Refused(
            413,
            f"request body: {size} bytes is more than the limit of {self.max_body_bytes} bytes",
            limit=self.max_body_bytes,
        )

    def _check_get(self, scope: Scope) -> None:
        raw = scope.get("query_string", b"")
        if len(raw) > self.max_body_bytes:
            raise Refused(
                414, f"query string: more than {self.max_body_bytes} bytes", limit=self.max_body_bytes
            )
        try:
            params = parse_qs(raw.decode("utf-8", errors="strict"))
        except UnicodeDecodeError:
            raise Refused(400, "query string: not valid UTF-8") from None
        for query in params.get("query", [])[:1]:
            self.check_document(query)

    def _check_json(self, body: bytes) -> None:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as err:
            reason = str(err).split(":")[0] or "malformed"
            raise Refused(400, f"request body: not valid JSON ({reason})") from None
        if not isinstance(payload, dict):
            raise Refused(400, f"request body: expected a JSON object, got {_json_type(payload)}")
        depth = _depth(payload, self.max_json_depth)
        if depth > self.max_json_depth:
            raise Refused(
                400,
                f"request body: JSON nested deeper than {self.max_json_depth} levels",
                limit=self.max_json_depth,
            )
        for key, kinds, name in (
            ("query", (str,), "a string"),
            ("operationName", (str,), "a string"),
            ("variables", (dict,), "an object"),
            ("extensions", (dict,), "an object"),
        ):
            value = payload.get(key)
            if value is not None and not isinstance(value, kinds):
                raise Refused(400, f"{key}: expected {name} or null, got {_json_type(value)}", field=key)
        if isinstance(payload.get("query"), str):
            self.check_document(payload["query"])

    def check_document(self, query: str) -> None:
        """Refuse a GraphQL document over the byte or token limit (lexing stops at the limit). Documents that
        passed are remembered (an LRU of at most ``ACCEPTED_CHARS`` characters), so the web client's few queries
        are lexed once, not on every request."""
        with self._lock:
            if query in self._accepted:
                self._accepted.move_to_end(query)
                return
        size = len(query.encode("utf-8", errors="surrogatepass"))
        if size > self.max_document_bytes:
            raise _document_refused(
                413, f"is {size} bytes; the limit is {self.max_document_bytes} bytes", self.max_document_bytes
            )
        lexer = Lexer(Source(query))
        tokens = 0
        try:
            while lexer.advance().kind != TokenKind.EOF:
                tokens += 1
                if tokens > self.max_tokens:
                    raise _document_refused(400, f"has more than {self.max_tokens} tokens", self.max_tokens)
        except GraphQLError:
            return  # a syntax error: the parser reports it (BAD_INPUT) with its position
        with self._lock:
            self._accepted[query] = None
            self._accepted_chars += len(query)
            while self._accepted_chars > ACCEPTED_CHARS:
                self._accepted_chars -= len(self._accepted.popitem(last=False)[0])

    def _bounded_websocket(self, receive: Receive, send: Send) -> Receive:
        async def bounded() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                data = message.get("text") or message.get("bytes") or b""
                size = len(data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data)
                if size > self.max_body_bytes:
                    log.info("websocket message of %d bytes refused (limit %d)", size, self.max_body_bytes)
                    await send({"type": "websocket.close", "code": 1009, "reason": "message too big"})
                    return {"type": "websocket.disconnect", "code": 1009}
                try:
                    orjson.loads(data)
                except (
                    orjson.JSONDecodeError
                ):  # NaN, lone surrogates, deep nesting, not JSON: the protocol's 4400
                    await send({"type": "websocket.close", "code": 4400, "reason": "invalid message"})
                    return {"type": "websocket.disconnect", "code": 4400}
            return message

        return bounded


class _Disconnected(Exception):
    """The client went away while sending its body."""


# --- client addresses ---------------------------------------------------------------------------------------


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """``10.0.0.0/8``, ``127.0.0.1`` ... as networks (a ValueError names a bad one)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The client a request is counted against.

    Without trusted proxies, ``X-Forwarded-For`` is ignored; when the server (uvicorn trusts localhost by default)
    already replaced the peer by a forwarded address, every such request shares one ``forwarded`` client, so
    a made-up header never buys a fresh rate-limit bucket. With trusted proxies, the right-most forwarded address
    that is not a trusted proxy is the client."""
    peer = scope["client"][0] if scope.get("client") else "unknown"
    forwarded = [
        hop.strip()
        for name, value in scope.get("headers", [])
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
        if hop.strip()
    ]
    if not forwarded:
        return peer
    if not trusted:
        return "forwarded" if peer in forwarded else peer
    for hop in reversed(forwarded):
        if not _in(hop, trusted):
            return hop
    return forwarded[0]


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


# --- helpers ------------------------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, counted iteratively (no recursion) and stopping past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


async def _refuse(send: Send, refused: Refused) -> None:
    body = orjson.dumps(
        {"data": None, "errors": [{"message": refused.message, "extensions": refused.extensions}]}
    )
    await send_json(send, body, refused.status)
