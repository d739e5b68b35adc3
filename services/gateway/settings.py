"""Gateway knobs (limits, auth policy, CORS, live-inference cache) read from ``SAELAB_GATEWAY_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Limits and policies of the GraphQL gateway; the API token itself is ``SAELAB_API_TOKEN`` (shared settings)."""

    model_config = SettingsConfigDict(
        env_prefix="SAELAB_GATEWAY_", extra="ignore", use_attribute_docstrings=True
    )

    public_queries: bool = True
    """Queries and subscriptions need no token (mutations always do)."""
    max_depth: Annotated[int, Field(ge=2)] = 12
    """Deepest selection nesting a query may use."""
    max_aliases: Annotated[int, Field(ge=0)] = 20
    """Most field aliases one document may use."""
    max_page_size: Annotated[int, Field(ge=1)] = 200
    """Largest ``first`` a list field accepts."""
    max_prompt_tokens: Annotated[int, Field(ge=1)] = 256
    """Longest prompt (in model tokens) live inference accepts."""
    inference_rate_per_minute: Annotated[float, Field(gt=0)] = 120.0
    """Live-inference requests per client per minute (token bucket refill rate)."""
    inference_burst: Annotated[int, Field(ge=1)] = 20
    """Live-inference requests a client may send at once before the rate applies."""
    max_body_bytes: Annotated[int, Field(ge=1024)] = 256 * 1024
    """Largest request body (and websocket message) in bytes; larger is refused (413) before it is parsed."""
    max_document_bytes: Annotated[int, Field(ge=1024)] = 32 * 1024
    """Largest GraphQL document (``query``) in bytes (the web client's largest is ~1 kB)."""
    max_tokens: Annotated[int, Field(ge=100)] = 2000
    """Most GraphQL tokens (names, punctuation, values) in one document, counted before parsing."""
    max_json_depth: Annotated[int, Field(ge=4, le=512)] = 32
    """Deepest nesting of a JSON request body (variables, extensions)."""
    document_cache_bytes: Annotated[int, Field(ge=0)] = 32 * 1024 * 1024
    """Memory budget of the parsed + validated document cache (estimated from each document's size)."""
    request_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    """An operation running longer than this is abandoned with code UNAVAILABLE."""
    fast_paths: bool = True
    """The speed layer (``services/gateway/speed``): fast GraphQL completion paths, the response cache and the
    per-run memos. Off (``SAELAB_GATEWAY_FAST_PATHS=0``) the gateway runs stock graphql-core and Strawberry
    execution with no cache: the same answers, more slowly (a fallback if a library upgrade breaks the fast paths)."""
    response_cache_s: Annotated[float, Field(ge=0)] = 30.0
    """Seconds a read-only feature query result (and a run's memos) is reused (0 = off); relabels and finished
    analyses clear it. Ignored when ``fast_paths`` is off."""
    model_cache_size: Annotated[int, Field(ge=1)] = 2
    """Runs whose LM + SAE stay loaded for live inference (least recently used evicted)."""
    db_reads: Literal["auto", "inline", "thread"] = "auto"
    """Where SQL reads run: ``thread`` (a worker thread per event-loop turn; for a networked database),
    ``inline`` (on the event loop: SQLite reads are in-process CPU work, a thread hop costs more than the
    read), ``auto`` (inline for SQLite, thread otherwise)."""
    inference_device: str = "cpu"
    """Torch device for live inference (``cpu``, ``cuda``, ``auto``)."""
    cors_origins: list[str] = ["http://localhost:5173", "http://127.0.0.1:5173"]
    """Origins allowed to call the API from a browser (the Vite dev server); same-origin needs none."""
    web_dist: Path = Path(__file__).resolve().parents[2] / "web" / "dist"
    """Built web client served at ``/`` when the directory exists."""
    graphiql: bool = True
    """Serve the GraphiQL IDE on GET /graphql from a browser."""


@lru_cache(maxsize=1)
def get_gateway_settings() -> GatewaySettings:
    """The process-wide gateway settings (read once from the environment)."""
    return GatewaySettings()
