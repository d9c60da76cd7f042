"""Bearer-token check for the saga routes (RFC 6750 style 401 answers)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

_bearer = HTTPBearer(auto_error=False, description="The coordinator's API token (SAGALINE_API_TOKEN).")


def bearer_guard(token: SecretStr) -> Callable[..., Awaitable[None]]:
    """A dependency that lets a request through only with ``Authorization: Bearer <token>``."""
    expected = token.get_secret_value().encode()
    if not expected:
        raise ValueError("the API token must not be empty")

    async def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if credentials is None:
            raise _unauthorized("missing bearer token", 'Bearer realm="sagaline"')
        # Constant-time: the comparison must not reveal how much of a guess was right.
        if not hmac.compare_digest(credentials.credentials.encode(), expected):
            raise _unauthorized("invalid bearer token", 'Bearer realm="sagaline", error="invalid_token"')

    return require_token


def _unauthorized(detail: str, challenge: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge})
