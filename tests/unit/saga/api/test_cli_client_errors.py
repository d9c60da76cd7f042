"""The CLI's client turns every error answer into one readable sentence."""

from __future__ import annotations

import httpx
import pytest
from sagaline.saga.cli_client import ApiError, ApiUnreachable, SagalineClient

pytestmark = pytest.mark.unit


def _client(status, **response):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, **response)

    return SagalineClient("http://api.test", "t", transport=httpx.MockTransport(answer))


def test_a_422_lists_each_field_without_the_body_prefix():
    detail = [
        {"type": "missing", "loc": ["body", "data", "card_token"], "msg": "Field required"},
        {"type": "int_parsing", "loc": ["query", "limit"], "msg": "Input should be a valid integer"},
    ]
    with pytest.raises(ApiError) as caught, _client(422, json={"detail": detail}) as client:
        client.get("x")
    assert caught.value.status_code == 422
    assert str(caught.value) == (
        "422 Unprocessable Entity: invalid request: data.card_token: Field required; "
        "query.limit: Input should be a valid integer"
    )


def test_a_401_says_how_to_pass_the_token():
    with pytest.raises(ApiError) as caught, _client(401, json={"detail": "invalid bearer token"}) as client:
        client.list_sagas()
    assert str(caught.value) == (
        "401 Unauthorized: invalid bearer token (pass --token or set SAGALINE_API_TOKEN)"
    )


def test_an_error_without_json_shows_the_text():
    with pytest.raises(ApiError) as caught, _client(502, text="upstream went away") as client:
        client.cancel("x")
    assert str(caught.value) == "502 Bad Gateway: upstream went away"


def test_a_transport_failure_is_unreachable_naming_the_url():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = SagalineClient("http://api.test", "t", transport=httpx.MockTransport(refuse))
    with pytest.raises(ApiUnreachable, match=r"cannot reach the Sagaline API at http://api.test"), client:
        client.resume("x")


def test_ids_are_sent_as_one_path_segment_with_the_token():
    seen = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"saga_id": "a/b"})

    with SagalineClient("http://api.test", "tok", transport=httpx.MockTransport(record)) as client:
        client.get("a/b")
    assert seen[0].url.raw_path == b"/sagas/a%2Fb"
    assert seen[0].headers["Authorization"] == "Bearer tok"
