"""The bearer token guards every saga route; health, readiness and metrics stay open."""

from __future__ import annotations

import httpx
import pytest
from sagaline.saga.api import create_api
from sagaline.saga.coordinator import Coordinator

pytestmark = pytest.mark.integration

SAGA_ROUTES = [
    ("POST", "/sagas"),
    ("GET", "/sagas"),
    ("GET", "/sagas/some-id"),
    ("POST", "/sagas/some-id/resume"),
    ("POST", "/sagas/some-id/cancel"),
]


@pytest.fixture
async def anonymous(coordinator):
    transport = httpx.ASGITransport(app=create_api(coordinator, coordinator.settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sagaline.test") as client:
        yield client


@pytest.mark.parametrize(("method", "path"), SAGA_ROUTES)
async def test_when_the_token_is_missing_every_saga_route_answers_401_with_a_bearer_challenge(
    anonymous, method, path
):
    response = await anonymous.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"detail": "missing bearer token"}


@pytest.mark.parametrize(
    "authorization", ["Bearer wrong-token", "Bearer ", "Basic dXNlcjpwYXNz", "bearer-without-scheme"]
)
async def test_when_the_token_is_wrong_the_request_is_refused_before_anything_happens(
    anonymous, coordinator, order, authorization
):
    body = {"workflow": "order_processing_workflow", "idempotency_key": "k-auth", "data": order}
    response = await anonymous.post("/sagas", json=body, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await coordinator.store.list_sagas()).total == 0, "a refused start must not create a saga"


async def test_when_the_token_is_right_the_scheme_is_case_insensitive(anonymous, coordinator):
    token = coordinator.settings.api_token.get_secret_value()
    response = await anonymous.get("/sagas", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


async def test_probes_and_metrics_need_no_token(anonymous, start_order):
    await start_order("k-metrics")
    assert (await anonymous.get("/health")).json() == {"status": "ok"}
    ready = await anonymous.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"redis": True, "kafka": True, "consuming": True}}
    metrics = await anonymous.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'sagaline_sagas_total{event="started",workflow="order_processing_workflow"}' in metrics.text


async def test_when_the_coordinator_is_not_consuming_ready_answers_503(infra, coordinator):
    idle = Coordinator(coordinator.settings, coordinator.registry)  # built, never started
    try:
        transport = httpx.ASGITransport(app=create_api(idle, idle.settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://sagaline.test") as client:
            response = await client.get("/ready")
    finally:
        await idle.redis.aclose()
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["checks"]["consuming"] is False
    assert body["checks"]["redis"] is True


async def test_an_api_over_a_bare_engine_is_ready_when_redis_answers(coordinator):
    transport = httpx.ASGITransport(app=create_api(coordinator.engine, coordinator.settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sagaline.test") as client:
        response = await client.get("/ready")
    assert response.json() == {"ready": True, "checks": {"redis": True}}
