"""The job's HTTP side: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Scope
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from sagaline.contracts.job.dedupe import IdempotencyStore
from sagaline.contracts.job.kafka import Lifecycle
from sagaline.contracts.job.metrics import JobMetrics

_PING_TIMEOUT_SECONDS = 2.0


def health_routes(
    broker: KafkaBroker, store: IdempotencyStore, lifecycle: Lifecycle, metrics: JobMetrics
) -> list[tuple[str, ASGIApp]]:
    """``/health``: the process answers. ``/ready``: Kafka and Redis answer and the job consumes.

    Liveness deliberately ignores Kafka and Redis: restarting a job does not fix a broker outage.
    """

    @get(include_in_schema=False)
    async def health(scope: Scope) -> AsgiResponse:
        return JSONResponse({"status": "ok"})

    @get(include_in_schema=False)
    async def ready(scope: Scope) -> AsgiResponse:
        checks: dict[str, Any] = {
            "consuming": lifecycle.started and not lifecycle.draining,
            "kafka": await broker.ping(_PING_TIMEOUT_SECONDS),
            "redis": await store.ping(),
        }
        return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)

    return [
        ("/health", health),
        ("/ready", ready),
        ("/metrics", make_asgi_app(registry=metrics.registry)),
    ]
