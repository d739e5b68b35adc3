"""A chat-completions client for any OpenAI-compatible endpoint, over plain HTTP (stdlib ``urllib``, no SDK).

``ChatClient.complete(messages)`` POSTs ``{base_url}/chat/completions`` and returns the first choice's text with the
token usage. Rate limits (429) and server errors (5xx), timeouts and refused connections are retried with
exponential backoff (``Retry-After`` honoured, capped); what stays wrong raises a named ``ExplainerError``:
``EndpointUnreachable``, ``BadApiKey``, ``UnknownModel``, ``EndpointError``. The API key is sent as a bearer header
and appears in no message, log line or ``repr``.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses worth another try (rate limits, overload, gateway hiccups)."""
MAX_BACKOFF = 30.0
"""Longest wait between two tries, in seconds (a larger ``Retry-After`` is capped to it)."""


class ExplainerError(RuntimeError):
    """The explainer endpoint could not answer; the message says why and what to change."""


class NotConfigured(ExplainerError):
    """No endpoint or model in the settings."""


class EndpointUnreachable(ExplainerError):
    """Nothing answers at the base URL (refused, DNS, timeouts through every retry)."""


class BadApiKey(ExplainerError):
    """The endpoint refused the key (401/403)."""


class UnknownModel(ExplainerError):
    """The endpoint does not serve the requested model."""


class EndpointError(ExplainerError):
    """Any other refusal, or an answer that is not a chat completion."""


Message = dict[str, str]


@dataclass(frozen=True)
class Completion:
    """One answer: its text and the tokens the endpoint counted (None where it did not say)."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass
class ChatClient:
    """Chat completions against ``base_url`` (the part before ``/chat/completions``, e.g. ``.../v1``)."""

    base_url: str
    model: str
    api_key: SecretStr = field(default_factory=lambda: SecretStr(""), repr=False)
    timeout: float = 60.0
    retries: int = 4
    """Further tries after the first, for retryable failures only."""
    backoff: float = 1.0
    """First wait between tries, doubled each time (capped at ``MAX_BACKOFF``)."""
    max_tokens: int = 256
    temperature: float = 0.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> ChatClient:
        """The client the settings describe (``SAELAB_EXPLAINER_BASE_URL`` / ``_MODEL`` / ``_API_KEY``)."""
        s = settings or get_settings()
        if not s.explainer_base_url or not s.explainer_model:
            raise NotConfigured(
                "no LLM explainer configured: set SAELAB_EXPLAINER_BASE_URL (an OpenAI-compatible endpoint, e.g. "
                "http://127.0.0.1:8000/v1) and SAELAB_EXPLAINER_MODEL (and SAELAB_EXPLAINER_API_KEY if it needs one)"
            )
        return cls(
            base_url=s.explainer_base_url,
            model=s.explainer_model,
            api_key=s.explainer_api_key,
            timeout=s.explainer_timeout,
            **overrides,
        )

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> Completion:
        """The model's answer to ``messages`` (greedy unless ``temperature`` says otherwise)."""
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature,
        }
        data = self._post(json.dumps(body).encode())
        try:
            choice = data["choices"][0]["message"]
            usage = data.get("usage") or {}
            return Completion(
                str(choice.get("content") or ""), usage.get("prompt_tokens"), usage.get("completion_tokens")
            )
        except (KeyError, IndexError, TypeError, AttributeError) as err:
            raise EndpointError(
                f"{self.url}: the answer is not a chat completion ({str(data)[:200]})"
            ) from err

    # ----------------------------------------------------------------------------------------------------------

    def _post(self, body: bytes) -> dict[str, Any]:
        wait = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                return self._once(body)
            except _Retryable as err:
                if last:
                    raise err.final from None
                delay = min(err.retry_after if err.retry_after is not None else wait, MAX_BACKOFF)
                log.warning("explainer %s: %s; retrying in %.1fs", self.url, err.final, delay)
                self.sleep(delay)
                wait = min(wait * 2, MAX_BACKOFF)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, body: bytes) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self.api_key.get_secret_value()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise self._http_error(err) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            reason = getattr(err, "reason", err)
            raise _Retryable(
                EndpointUnreachable(f"explainer endpoint {self.base_url} unreachable: {reason}")
            ) from None
        try:
            data = json.loads(raw)
        except ValueError as err:
            raise EndpointError(f"{self.url}: the answer is not JSON ({raw[:200]!r})") from err
        if not isinstance(data, dict):
            raise EndpointError(f"{self.url}: the answer is not a JSON object")
        return data

    def _http_error(self, err: urllib.error.HTTPError) -> Exception:
        detail = _error_detail(err)
        where = f"explainer endpoint {self.base_url}"
        if err.code in (401, 403):
            return BadApiKey(f"{where} refused the API key (HTTP {err.code}): check SAELAB_EXPLAINER_API_KEY")
        lowered = detail.lower()
        refused = any(w in lowered for w in ("not found", "not exist", "unknown", "invalid", "no such"))
        if "model" in lowered and (err.code == 404 or (err.code == 400 and refused)):
            return UnknownModel(
                f"{where} does not serve model {self.model!r} (HTTP {err.code}: {detail}): check SAELAB_EXPLAINER_MODEL"
            )
        if err.code == 404:
            return EndpointError(
                f"{where}: no chat-completions route at {self.url} (HTTP 404): the base URL usually ends in /v1"
            )
        message = f"{where} answered HTTP {err.code}: {detail}"
        if err.code in RETRY_STATUSES:
            return _Retryable(EndpointError(message), _retry_after(err))
        return EndpointError(message)


class _Retryable(Exception):
    """A failure worth another try; ``final`` is what to raise when the tries run out."""

    def __init__(self, final: ExplainerError, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final, self.retry_after = final, retry_after


def _retry_after(err: urllib.error.HTTPError) -> float | None:
    value = err.headers.get("Retry-After") if err.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_detail(err: urllib.error.HTTPError) -> str:
    """The error message an OpenAI-style body carries (``{"error": {"message": ...}}``), else its start."""
    try:
        raw = err.read()[:2000]
    except OSError:
        return err.reason or ""
    try:
        body = json.loads(raw)
        inner = body.get("error", body) if isinstance(body, dict) else body
        message = inner.get("message") if isinstance(inner, dict) else inner
        return str(message)[:300]
    except ValueError:
        return raw.decode(errors="replace")[:300]
