"""Request limits the schema enforces itself: page sizes, prompt lengths and a per-client rate limit."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from services.gateway.errors import BadInput, RateLimited


def check_page_size(first: int, max_page_size: int, name: str = "first") -> int:
    """Return ``first`` when it is within 1..max_page_size, else raise BAD_INPUT naming the argument."""
    if first < 1:
        raise BadInput(f"{name}: must be at least 1 (got {first})", field=name)
    if first > max_page_size:
        raise BadInput(f"{name}: at most {max_page_size} items per page (got {first})", field=name)
    return first


def check_unicode(text: str, field: str) -> str:
    """``text`` when it is valid Unicode text; BAD_INPUT naming ``field`` for an unpaired surrogate or a NUL
    (both reach the tokenizer or the database only to fail there)."""
    if "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise BadInput(f"{field}: contains an unpaired surrogate or a NUL (not valid text)", field=field)
    return text


def check_prompt(text: str, n_tokens: int, max_tokens: int, name: str = "text") -> None:
    """Raise BAD_INPUT (naming the argument ``name``) for an empty prompt, one that is not valid text, or one longer
    than ``max_tokens`` model tokens."""
    if not text.strip():
        raise BadInput(f"{name}: the prompt is empty", field=name)
    check_unicode(text, name)
    if n_tokens > max_tokens:
        raise BadInput(
            f"{name}: the prompt is {n_tokens} tokens; the limit is {max_tokens} tokens", field=name
        )


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, refilled at ``per_minute`` per minute.

    Thread-safe; remembers at most ``max_clients`` clients (least recently seen forgotten first).
    """

    def __init__(self, per_minute: float, burst: int, max_clients: int = 10_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        """Take one token for ``client`` or raise RATE_LIMITED saying when to retry."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens < 1.0:
                self._remember(client, tokens, now)
                wait = (1.0 - tokens) / self._rate
                raise RateLimited(
                    f"Too many live-inference requests from this client; retry in {wait:.1f} s",
                    retry_after=wait,
                )
            self._remember(client, tokens - 1.0, now)

    def _remember(self, client: str, tokens: float, now: float) -> None:
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
