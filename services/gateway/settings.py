"""Gateway knobs (limits, auth policy, CORS, live-inference cache) read from ``SAELAB_GATEWAY_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Limits and policies of the GraphQL gateway; the API token itself is ``SAELAB_API_TOKEN`` (shared settings)."""

    model_config = SettingsConfigDict(
        env_prefix="SAELAB_GATEWAY_", extra="ignore", use_attribute_docstrings=True
    )

    public_queries: bool = True
    """Queries and subscriptions need no token (mutations always do)."""
    max_depth: int = Field(12, ge=2)
    """Deepest selection nesting a query may use."""
    max_aliases: int = Field(20, ge=0)
    """Most field aliases one document may use."""
    max_page_size: int = Field(200, ge=1)
    """Largest ``first`` a list field accepts."""
    max_prompt_tokens: int = Field(256, ge=1)
    """Longest prompt (in model tokens) live inference accepts."""
    inference_rate_per_minute: float = Field(120.0, gt=0)
    """Live-inference requests per client per minute (token bucket refill rate)."""
    inference_burst: int = Field(20, ge=1)
    """Live-inference requests a client may send at once before the rate applies."""
    request_timeout_s: float = Field(30.0, gt=0)
    """An operation running longer than this is abandoned with code UNAVAILABLE."""
    model_cache_size: int = Field(2, ge=1)
    """Runs whose LM + SAE stay loaded for live inference (least recently used evicted)."""
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
