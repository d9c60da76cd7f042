"""A small synchronous client of the coordinator's HTTP API, used by the ``sagaline`` CLI.

It returns the API's JSON as plain dicts and turns every failure into one of two exceptions whose
message is a complete, readable sentence: ``ApiError`` (the API answered with an error) and
``ApiUnreachable`` (no answer at all).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx


class ApiError(Exception):
    """The API answered with an error status; ``str()`` says what and why."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


class ApiUnreachable(Exception):
    """The API did not answer (connection refused, DNS failure, timeout)."""


class SagalineClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> SagalineClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def start(
        self, workflow: str, data: dict[str, Any], idempotency_key: str, version: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Start a saga; returns (saga view, created). ``created`` is False when the key was used."""
        body: dict[str, Any] = {"workflow": workflow, "idempotency_key": idempotency_key, "data": data}
        if version:
            body["version"] = version
        response = self._send("POST", "/sagas", json=body)
        return response.json(), response.status_code == httpx.codes.CREATED

    def get(self, saga_id: str) -> dict[str, Any]:
        return self._json("GET", f"/sagas/{_segment(saga_id)}")

    def list_sagas(
        self, status: str | None = None, workflow: str | None = None, offset: int = 0, limit: int = 50
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if status:
            params["status"] = status
        if workflow:
            params["workflow"] = workflow
        return self._json("GET", "/sagas", params=params)

    def resume(self, saga_id: str, reason: str = "") -> dict[str, Any]:
        return self._json("POST", f"/sagas/{_segment(saga_id)}/resume", json={"reason": reason})

    def cancel(self, saga_id: str, reason: str = "") -> dict[str, Any]:
        return self._json("POST", f"/sagas/{_segment(saga_id)}/cancel", json={"reason": reason})

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self._send(method, path, **kwargs).json()
        assert isinstance(body, dict)
        return body

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"cannot reach the Sagaline API at {self.base_url}: {exc}") from None
        if response.is_error:
            raise ApiError(response.status_code, _error_message(response))
        return response


def _segment(value: str) -> str:
    return quote(value, safe="")


def _error_message(response: httpx.Response) -> str:
    status = f"{response.status_code} {response.reason_phrase}".strip()
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):
        return f"{status}: invalid request: " + "; ".join(_field_error(e) for e in detail)
    text = str(detail) if detail is not None else response.text.strip()[:300] or "no details"
    if response.status_code == httpx.codes.UNAUTHORIZED:
        text += " (pass --token or set SAGALINE_API_TOKEN)"
    return f"{status}: {text}"


def _field_error(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    location = [str(part) for part in error.get("loc", [])]
    # "body" is where, not what: the user typed the rest.
    if location[:1] == ["body"]:
        location = location[1:]
    return f"{'.'.join(location) or 'body'}: {error.get('msg', 'invalid')}"
