"""ASGI plumbing the gateway's two middlewares share (``guard.RequestGuard``, ``speed.cache.CachedQueries``): the
callable types, the wrapped app and the one path a middleware acts on, a header lookup, a body replay and a JSON
answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class PathMiddleware:
    """A middleware in front of ``app`` that acts on requests to ``path`` and hands every other one on untouched."""

    def __init__(self, app: App, path: str = "/graphql") -> None:
        self.app = app
        self.path = path


def header(scope: Scope, name: bytes) -> bytes:
    """The first value of header ``name`` (lower-case bytes, as ASGI gives them), or ``b""``."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return b""


def replay(body: bytes, receive: Receive, complete: bool = True) -> Receive:
    """A ``receive`` that first hands out the already read ``body`` (saying more is to come when it was only a
    prefix: not ``complete``), then defers to the real one."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": not complete}

    return replayed


async def send_json(send: Send, body: bytes, status: int = 200) -> None:
    """Answer with an encoded JSON ``body``."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
