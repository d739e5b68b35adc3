"""API-token auth: mutations need ``Authorization: Bearer <token>``; queries are public unless configured not to be."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from services.gateway.errors import Unauthenticated


def generate_token() -> str:
    """A fresh random token for embedded mode (printed at start, valid for this process)."""
    return secrets.token_urlsafe(24)


def bearer_token(header: str | None) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header value, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no expected token means nothing matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def connection_authorization(params: Any) -> str | None:
    """The ``Authorization`` value a websocket client sent in its connection_init payload (any key case)."""
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


class TokenRequired(BasePermission):
    """Mutations: the request must carry the API token."""

    message = "This operation needs an API token: send 'Authorization: Bearer <token>'"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not info.context.authenticated:
            raise Unauthenticated(self.message)
        return True


class ReadAccess(BasePermission):
    """Queries and subscriptions: public by default; with ``public_queries`` off they need the token too."""

    message = "Reading needs an API token on this server: send 'Authorization: Bearer <token>'"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not info.context.authenticated and not info.context.state.settings.public_queries:
            raise Unauthenticated(self.message)
        return True


def read_field(description: str | None = None) -> Any:
    """A query field open to whoever may read (``ReadAccess``): every query resolver is declared with it."""
    return strawberry.field(permission_classes=[ReadAccess], description=description)
