"""Job errors: the exceptions a task body raises to steer its job, and whether a failure is worth a retry.

``PermanentError`` fails the job with its message; ``TransientError`` and the dependency hiccups ``is_transient``
recognises (lost database connections, S3 / broker / network errors) requeue it with ``backoff``; ``JobCancelled``
and ``JobLost`` stop a body whose job was cancelled or taken over.
"""

from __future__ import annotations

import os
import random
import socket

from shared.settings import Settings


class JobCancelled(Exception):
    """Raised inside a task body when its job was cancelled; the job ends as ``cancelled``."""


class JobLost(Exception):
    """Raised inside a task body when its job was taken over (reaped while this worker still ran it)."""


class PermanentError(Exception):
    """An error that retrying cannot fix (bad config, missing input); the job fails with this message."""


class TransientError(Exception):
    """An error worth retrying (a dependency is briefly unavailable)."""


# --------------------------------------------------------------------------------------------------------------
# Error classification
# --------------------------------------------------------------------------------------------------------------

_TRANSIENT_S3_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "ServerBusy"}


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may fix: lost DB connections, S3/broker/network hiccups."""
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, PermanentError):
        return False
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    try:
        from minio.error import S3Error, ServerError

        if isinstance(exc, ServerError) or (isinstance(exc, S3Error) and exc.code in _TRANSIENT_S3_CODES):
            return True
    except ImportError:  # pragma: no cover - minio is a dependency
        pass
    try:
        import urllib3.exceptions as u3

        if isinstance(exc, u3.MaxRetryError | u3.ProtocolError | u3.NewConnectionError | u3.TimeoutError):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        import redis.exceptions as rx

        if isinstance(exc, rx.ConnectionError | rx.TimeoutError | rx.BusyLoadingError):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        from kombu.exceptions import OperationalError as KombuOperationalError

        if isinstance(exc, KombuOperationalError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, ConnectionError | TimeoutError)


def describe_error(exc: BaseException) -> str:
    """A one-paragraph readable message: the exception type and text, no traceback, no internal paths added."""
    text = str(exc).strip() or repr(exc)
    name = type(exc).__name__
    return text if name in ("PermanentError", "ConfigError") else f"{name}: {text}"


def backoff(attempt: int, settings: Settings) -> float:
    """Seconds before retry ``attempt`` (1-based): exponential with 10 % jitter, capped at 5 minutes."""
    base = settings.retry_backoff * 2 ** max(attempt - 1, 0)
    return min(base * random.uniform(0.9, 1.1), 300.0)


def worker_name() -> str:
    """``host/pid`` of this process (recorded on the jobs it runs)."""
    return f"{socket.gethostname()}/{os.getpid()}"
