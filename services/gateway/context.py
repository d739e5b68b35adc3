"""The gateway's process-wide state and the typed per-request GraphQL context (auth, client id, DataLoaders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from strawberry.fastapi import BaseContext

from services.gateway.auth import bearer_token, connection_authorization, token_matches
from services.gateway.guard import parse_networks
from services.gateway.limits import RateLimiter
from services.gateway.live import ModelCache
from services.gateway.loaders import Loaders
from services.gateway.settings import GatewaySettings
from services.gateway.speed.cache import ResponseCache
from services.gateway.speed.memos import RunMemos
from shared.settings import Settings, get_settings


@dataclass
class GatewayState:
    """What lives as long as the process: settings, the token, the database, the model cache, the rate limiter."""

    settings: GatewaySettings
    api_token: str | None
    mode: str
    """``embedded`` (in-process worker) or ``distributed`` (Celery broker)."""
    session_factory: Any
    """SQLAlchemy ``sessionmaker`` bound to the saelab database."""
    models: ModelCache
    shared: Settings = field(default_factory=get_settings)
    """Database / broker / store / events settings (``SAELAB_*``)."""
    limiter: RateLimiter = field(init=False)
    responses: ResponseCache = field(init=False)
    """Results of read-only feature queries (cleared on relabel and when an analysis finishes)."""
    memos: RunMemos = field(init=False)
    """Per-run feature orders and labels (cleared with the responses)."""

    trusted_proxies: tuple[Any, ...] = field(init=False)
    """Networks whose ``X-Forwarded-For`` is believed (``SAELAB_TRUSTED_PROXIES``; none by default)."""
    inline_reads: bool = field(init=False)
    """SQL reads run on the event loop (``db_reads`` inline, or auto with SQLite) instead of a worker thread."""

    def __post_init__(self) -> None:
        self.trusted_proxies = parse_networks(self.shared.trusted_proxies)
        self.limiter = RateLimiter(self.settings.inference_rate_per_minute, self.settings.inference_burst)
        ttl_s = self.settings.response_cache_s if self.settings.fast_paths else 0.0
        self.responses = ResponseCache(ttl_s)
        self.memos = RunMemos(ttl_s)
        mode = self.settings.db_reads
        if mode == "auto":
            bind = getattr(self.session_factory, "kw", {}).get("bind")
            mode = "inline" if bind is not None and bind.dialect.name == "sqlite" else "thread"
        self.inline_reads = mode == "inline"

    def analysis_changed(self) -> None:
        """A run's features changed (relabel, finished analysis): drop the cached answers and memos."""
        self.responses.clear()
        self.memos.clear()


class Context(BaseContext):
    """Per request (or per websocket connection): who is calling, and DataLoaders that batch database reads."""

    def __init__(self, state: GatewayState, client: str = "local", authorization: str | None = None) -> None:
        super().__init__()
        self.state = state
        self.client = client
        self._authorization = authorization

    @property
    def authenticated(self) -> bool:
        """True when the request header or the websocket connection_init payload carries the API token."""
        header = self._authorization or connection_authorization(self.connection_params)
        return token_matches(bearer_token(header), self.state.api_token)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.state.session_factory, inline=self.state.inline_reads)
