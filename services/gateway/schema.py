"""The gateway's GraphQL schema: root Query/Mutation/Subscription combined from the domain modules, with limits.

``build_schema(settings)`` adds the query depth and alias limits, the parser/validation caches, the client-error
rewriting (stable ``extensions.code``, no internals), a per-operation timeout and, unless
``SAELAB_GATEWAY_FAST_PATHS=0``, the speed layer's execution context (``services.gateway.speed``). ``schema`` is the instance the
app serves and ``export_schema`` prints.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import logging
import re
import sys
import warnings
from collections.abc import Awaitable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult, Info

from services.gateway.common import ctx
from services.gateway.compare import CompareQueries
from services.gateway.documents import CachedDocuments, DocumentCache
from services.gateway.errors import ClientErrors, log_unexpected, to_client_error
from services.gateway.explain import ExplainMutations, ExplainQueries
from services.gateway.explanations import ExplanationMutations, ExplanationQueries
from services.gateway.features import FeatureMutations, FeatureQueries
from services.gateway.inference import InferenceQueries
from services.gateway.interventions import InterventionQueries
from services.gateway.jobs import JobMutations, JobQueries, JobSubscriptions
from services.gateway.runs import RunQueries, RunSubscriptions
from services.gateway.settings import GatewaySettings, get_gateway_settings
from services.gateway.speed.execution import FastExecutionContext, MemoNameConverter

log = logging.getLogger(__name__)


@strawberry.type(description="What the server is and what it accepts.")
class ServerInfo:
    version: str
    mode: str = strawberry.field(description="embedded | distributed")
    auth_required: bool = strawberry.field(description="Mutations need a token (always true).")
    public_queries: bool = strawberry.field(description="Queries and subscriptions work without a token.")
    max_prompt_tokens: int = strawberry.field(
        description="Longest prompt accepted by live inference, in tokens."
    )
    max_page_size: int


def _version() -> str:
    try:
        return importlib.metadata.version("saelab")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@strawberry.type
class ServerQueries:
    @strawberry.field(description="Server version, mode and limits (always public).")
    def server_info(self, info: Info) -> ServerInfo | None:
        state = ctx(info).state
        return ServerInfo(
            version=_version(),
            mode=state.mode,
            auth_required=True,
            public_queries=state.settings.public_queries,
            max_prompt_tokens=state.settings.max_prompt_tokens,
            max_page_size=state.settings.max_page_size,
        )


@strawberry.type
class Query(
    ServerQueries,
    RunQueries,
    JobQueries,
    FeatureQueries,
    ExplanationQueries,
    ExplainQueries,
    InferenceQueries,
    InterventionQueries,
    CompareQueries,
):
    pass


@strawberry.type
class Mutation(JobMutations, FeatureMutations, ExplanationMutations, ExplainMutations):
    pass


@strawberry.type
class Subscription(JobSubscriptions, RunSubscriptions):
    pass


class GatewaySchema(strawberry.Schema):
    """A schema whose operations time out (code UNAVAILABLE) and that logs only unexpected errors."""

    timeout_s: float = 30.0

    async def execute(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Any = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        run = super().execute(
            query, variable_values, context_value, root_value, operation_name, allowed_operation_types,
            operation_extensions,
        )  # fmt: skip
        try:
            result = await _within(run, self.timeout_s)
        except asyncio.TimeoutError:
            message = f"The request took longer than {self.timeout_s:g} s and was abandoned; try again"
            return ExecutionResult(
                data=None, errors=[GraphQLError(message, extensions={"code": "UNAVAILABLE"})]
            )
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or getattr(task, "cancelling", lambda: 1)():
                raise  # the request itself was cancelled (client gone, server stopping)
            log.warning("an operation was interrupted by a stray cancellation; answered UNAVAILABLE")
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError("The request was interrupted; try again", extensions={"code": "UNAVAILABLE"})
                ],
            )
        if result.errors:  # errors raised before the extensions ran (e.g. a parse error in the parser cache)
            result.errors = [
                e if (e.extensions or {}).get("code") else to_client_error(e) for e in result.errors
            ]
        return result

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_unexpected(errors)


async def _within(run: Awaitable[ExecutionResult], timeout_s: float) -> ExecutionResult:
    """``await run`` with a deadline: ``asyncio.timeout`` (3.11+) adds no task per request, unlike ``wait_for``."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout_s):
            return await run
    return await asyncio.wait_for(run, timeout_s)


ABANDONED_BRANCHES = r"coroutine '(Executor\.|GraphQLCoreConverter\.from_resolver)"
ABANDONED_QUALNAMES = r"(Executor\.|GraphQLCoreConverter\.from_resolver)"
"""graphql-core creates the coroutines of sibling fields before it awaits them; when an error in a non-null
field nulls their parent, it drops the ones it had not started yet, and Python warns once per dropped coroutine
when it is collected. Nothing ran in them, so the warning is noise under bad input; it is silenced for these
graphql-core and Strawberry coroutines only (any other never-awaited coroutine still warns)."""


def build_schema(settings: GatewaySettings) -> GatewaySchema:
    """The schema with ``settings``' limits."""
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    documents = DocumentCache(settings.document_cache_bytes, settings.max_tokens)
    fast = (
        settings.fast_paths
    )  # the speed layer; off: Strawberry's stock execution context and name converter
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=FastExecutionContext if fast else None,
        config=StrawberryConfig(name_converter=MemoNameConverter()) if fast else StrawberryConfig(),
        # Factories, not instances: an extension instance would be shared by concurrent operations. The rule
        # classes are built once so the validation cache (keyed by them) keeps hitting.
        extensions=[
            ClientErrors,
            partial(AddValidationRules, limits),
            partial(CachedDocuments, documents),
        ],
    )
    schema.timeout_s = settings.request_timeout_s
    _quiet_abandoned_branches()
    return schema


def _quiet_abandoned_branches() -> None:
    """Silence the warnings of ``ABANDONED_BRANCHES`` and, when the collector finalises one of those coroutines in
    a frame without builtins (it then fails to warn: "Exception ignored in <coroutine ...> KeyError:
    '__import__'"), that report too. Anything else reaches the previous hook unchanged."""
    warnings.filterwarnings("ignore", message=ABANDONED_BRANCHES, category=RuntimeWarning)
    previous = sys.unraisablehook
    if getattr(previous, "saelab_quiet", False):
        return

    def hook(info: Any) -> None:
        name = getattr(info.object, "__qualname__", "")
        if inspect.iscoroutine(info.object) and re.match(ABANDONED_QUALNAMES, name):
            return
        previous(info)

    hook.saelab_quiet = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


schema = build_schema(get_gateway_settings())
