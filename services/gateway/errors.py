"""Gateway errors with stable ``extensions.code`` values, and the extension that keeps internals out of replies.

Resolvers raise a ``GatewayError`` subclass; its message is shown to the client as is, with its code (and any
extra fields such as ``field``) in ``extensions``. GraphQL's own parse/validation errors become BAD_INPUT. Anything
else is an unexpected error: it is logged here with its traceback and the client sees only a generic message with
code INTERNAL, never a stack trace or a file path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error; the gateway log has the details."


class GatewayError(Exception):
    """A failure the client should see: a readable message plus a stable code."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {key: value for key, value in extensions.items() if value is not None}

    def as_extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extensions}


class NotFound(GatewayError):
    """The run, dataset, job or feature does not exist."""

    code = "NOT_FOUND"


class BadInput(GatewayError):
    """An argument or config value is invalid; ``field`` names it when one field is at fault."""

    code = "BAD_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class Conflict(GatewayError):
    """A concurrent change to the same rows won; the request can simply be sent again."""

    code = "CONFLICT"


class UnknownFeature(GatewayError):
    """An intervention names a feature the run's SAE does not have; ``feature`` is its index."""

    code = "UNKNOWN_FEATURE"

    def __init__(self, message: str, feature: int, field: str) -> None:
        super().__init__(message, field=field, feature=feature)


class DeadFeature(GatewayError):
    """An intervention names a feature the analysis found dead (it never fired); ``feature`` is its index."""

    code = "DEAD_FEATURE"

    def __init__(self, message: str, feature: int, field: str) -> None:
        super().__init__(message, field=field, feature=feature)


class Unauthenticated(GatewayError):
    """The operation needs ``Authorization: Bearer <token>`` and none (or a wrong one) was sent."""

    code = "UNAUTHENTICATED"


class RateLimited(GatewayError):
    """Too many live-inference requests from this client; retry after ``retryAfter`` seconds."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryAfter=round(retry_after, 2))


class Corrupt(GatewayError):
    """Stored weights or results failed their checksum or hold non-finite numbers; the run must be re-published."""

    code = "CORRUPT"


class Unavailable(GatewayError):
    """A dependency (database, model files, broker) is unavailable or the request timed out."""

    code = "UNAVAILABLE"


def to_client_error(error: GraphQLError) -> GraphQLError:
    """Rewrite one error for the client: keep gateway errors, code GraphQL errors, mask everything else."""
    original = error.original_error
    if isinstance(original, GatewayError):
        message, extensions = original.message, original.as_extensions()
    elif original is None or isinstance(original, GraphQLError):
        # Parse, validation, variable coercion and limit errors: they describe the request, not the server.
        message, extensions = error.message, {"code": "BAD_INPUT"}
    else:
        message, extensions = INTERNAL_MESSAGE, {"code": "INTERNAL"}
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
        extensions=extensions,
    )  # fmt: skip


def is_unexpected(error: GraphQLError) -> bool:
    """True for errors that come from a bug or a broken dependency (worth a traceback in the log)."""
    original = error.original_error
    return original is not None and not isinstance(original, (GatewayError, GraphQLError))


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log unexpected errors with their traceback; expected ones stay quiet."""
    for error in errors:
        if is_unexpected(error):
            original = error.original_error
            assert original is not None
            log.error(
                "unexpected error in %s",
                error.path,
                exc_info=(type(original), original, original.__traceback__),
            )


class ClientErrors(SchemaExtension):
    """Replace every error in a result (or a subscription frame) by its client form (see ``to_client_error``)."""

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            _rewrite(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        _rewrite(result)
        yield


def _rewrite(result: Any) -> None:
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [to_client_error(error) for error in errors]
