"""The gateway's FastAPI app: GraphQL at /graphql (HTTP + graphql-transport-ws), /healthz, the web client at /.

``uvicorn services.gateway.app:app`` serves it. The process state (database, token, model cache, and in embedded
mode the in-process worker) is built when the app starts; in embedded mode without ``SAELAB_API_TOKEN`` a token is
generated and printed, since mutations always need one.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from services.gateway.auth import bearer_token, generate_token, token_matches
from services.gateway.context import Context, GatewayState
from services.gateway.guard import RequestGuard, client_address
from services.gateway.live import ModelCache, freeze_heap, load_live_model, run_sae_dir
from services.gateway.schema import build_schema
from services.gateway.settings import GatewaySettings, get_gateway_settings
from services.gateway.speed.cache import CachedQueries, ResponseCache
from shared.jobs import events
from shared.settings import Settings, get_settings
from shared.store import get_store

log = logging.getLogger(__name__)

NOT_BUILT = "the web client is not built: run `make web` (npm ci + npm run build in web/), then reload"


def build_state(settings: GatewaySettings, shared: Settings) -> GatewayState:
    """Connect to the database and set up the token and the model cache (no worker started here)."""
    from shared.db.session import get_sessionmaker

    token = shared.api_token.get_secret_value() or None
    if token is None and not shared.embedded:
        raise RuntimeError(
            "SAELAB_API_TOKEN: required when the gateway runs distributed (SAELAB_BROKER_URL set)"
        )
    if token is None:
        token = generate_token()
        print(f"saelab gateway (embedded): API token for mutations: {token}", file=sys.stderr, flush=True)
    session_factory = get_sessionmaker(shared.database)
    store = get_store(shared)

    def load(run_id: str) -> Any:
        return load_live_model(run_sae_dir(run_id, session_factory, store), settings.inference_device)

    return GatewayState(
        settings=settings,
        api_token=token,
        mode="embedded" if shared.embedded else "distributed",
        session_factory=session_factory,
        models=ModelCache(settings.model_cache_size, load),
        shared=shared,
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    shared = get_settings()
    if app.state.gateway is None:
        app.state.gateway = build_state(get_gateway_settings(), shared)
    state: GatewayState = app.state.gateway
    embedded_worker = state.shared.embedded and app.state.start_worker
    if embedded_worker:  # the in-process worker runs submitted jobs (and migrates the SQLite database)
        from shared.jobs.embedded import get_worker

        await run_in_threadpool(get_worker, state.shared)
    freeze_heap()
    watcher = asyncio.create_task(_clear_cache_after_analyses(state), name="gateway-cache-watcher")
    try:
        yield
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        # Finalise what is left in reference cycles (graphql-core's abandoned sibling coroutines, see
        # schema.ABANDONED_BRANCHES) while the interpreter still works: at exit their finalisers would print
        # "Exception ignored ... KeyError: '__import__'" once each.
        gc.collect()
        if embedded_worker:
            from shared.jobs.embedded import stop_worker

            await run_in_threadpool(stop_worker)


FEATURE_WRITERS = frozenset({"analyse", "explain"})
"""Job kinds whose success changes what the cached feature queries answer (features replaced; explanations added)."""


async def _clear_cache_after_analyses(state: GatewayState) -> None:
    """Drop cached feature results whenever an analysis or an explainer job finishes."""
    if not state.responses.enabled:
        return
    stream = events.subscribe_jobs(state.shared)
    try:
        async for event in stream:
            if (
                isinstance(event, events.JobEvent)
                and event.kind in FEATURE_WRITERS
                and event.status == "succeeded"
            ):
                state.analysis_changed()
    except Exception as err:  # without events the TTL still bounds staleness
        log.warning(
            "response cache: job events unavailable (%s); entries expire after %s s",
            err,
            state.responses.ttl_s,
        )
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


class _Router(GraphQLRouter[Context, None]):
    """Strawberry's FastAPI router with orjson for responses and websocket messages (answers are tens of kB of
    numbers; bench/README.md has what it saves)."""

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()


def _client(connection: HTTPConnection) -> str:
    state: GatewayState = connection.app.state.gateway
    return client_address(connection.scope, state.trusted_proxies)


def create_app(
    state: GatewayState | None = None, settings: GatewaySettings | None = None, start_worker: bool = True
) -> FastAPI:
    """The ASGI app; ``state`` (tests) skips building one from the environment at start."""
    settings = settings or (state.settings if state else get_gateway_settings())
    app = FastAPI(title="saelab gateway", lifespan=_lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.gateway = state
    app.state.start_worker = start_worker

    async def get_context(connection: HTTPConnection) -> Context:
        return Context(
            state=connection.app.state.gateway,
            client=_client(connection),
            authorization=connection.headers.get("authorization"),
        )

    graphql = _Router(
        build_schema(settings),
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql else None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )
    app.include_router(graphql, prefix="/graphql")

    def responses() -> ResponseCache | None:
        state: GatewayState | None = app.state.gateway
        return state.responses if state is not None else None

    def authenticated(header: str | None) -> bool:
        return token_matches(bearer_token(header), app.state.gateway.api_token)

    if settings.fast_paths:  # the speed layer's response cache; inside CORS (added later = outer), so cached
        # answers get the same CORS headers as computed ones
        app.add_middleware(CachedQueries, cache=responses, authenticated=authenticated)
    app.add_middleware(  # inside CORS (refusals get its headers), in front of the cache and Strawberry
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        max_document_bytes=settings.max_document_bytes,
        max_tokens=settings.max_tokens,
        max_json_depth=settings.max_json_depth,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
    )
    app.add_api_route("/healthz", _healthz, methods=["GET"])
    app.add_api_route("/{path:path}", _web_client(settings.web_dist), methods=["GET"])
    return app


async def _healthz(request: Request) -> JSONResponse:
    """200 when the database answers, 503 (with a reason, no internals) when it does not."""
    state: GatewayState = request.app.state.gateway

    def ping() -> None:
        with state.session_factory() as session:
            session.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except Exception:
        log.exception("health check: database unreachable")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "mode": state.mode})


def _web_client(dist: Path) -> Any:
    """GET handler serving the built client from ``dist``; unknown paths get index.html (client-side routes)."""

    async def serve(path: str) -> Any:
        index = dist / "index.html"
        if not index.is_file():
            return JSONResponse(
                {"error": NOT_BUILT},
                status_code=404,
            )
        target = (dist / path).resolve()
        if path and target.is_file() and target.is_relative_to(dist.resolve()):
            return FileResponse(target)
        if Path(path).suffix and not path.endswith(".html"):  # a missing asset, not a client route
            return JSONResponse({"error": f"not found: /{path}"}, status_code=404)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return serve


app = create_app()
