"""The whole Sagaline system as processes on the local stack: coordinator plus every derived job.

Each run gets its own topic and Redis prefix, so runs never see each other's messages or state and
``make demo`` can run again and again on the same stack.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from sagaline.saga.keys import KeySpace
from sagaline.saga.state import SagaState
from sagaline.saga.store import SagaStore

from sagaline_demo.processes import ProcessGroup, ServiceSpec

JOBS = (
    ("inventory_reservation_job", 8091),
    ("payment_gateway_stripe_job", 8092),
    ("payment_gateway_paypal_job", 8093),
    ("shipping_fedex_job", 8094),
    ("notification_email_job", 8095),
)
COORDINATOR_PORTS = (8090, 8190, 8290)


@dataclass
class SystemConfig:
    kafka_bootstrap: str = os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url: str = os.environ.get("SAGALINE_REDIS_URL", "redis://127.0.0.1:6379/0")
    otlp_endpoint: str = os.environ.get("SAGALINE_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    jaeger_query: str = os.environ.get("SAGALINE_JAEGER_QUERY", "http://127.0.0.1:16686")
    smtp_port: int = int(os.environ.get("SAGALINE_SMTP_PORT", "8025"))
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    log_dir: Path = Path(".stack/logs/demo")
    api_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    signing_keys: str = field(default_factory=lambda: f"demo:{uuid.uuid4().hex}")
    coordinator_concurrency: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def topic_prefix(self) -> str:
        return f"demo{self.run_id}."

    @property
    def redis_prefix(self) -> str:
        return f"demo:{self.run_id}:"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{COORDINATOR_PORTS[0]}"

    def env(self) -> dict[str, str]:
        return {
            "SAGALINE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "SAGALINE_REDIS_URL": self.redis_url,
            "SAGALINE_OTLP_ENDPOINT": self.otlp_endpoint,
            "SAGALINE_TOPIC_PREFIX": self.topic_prefix,
            "SAGALINE_REDIS_PREFIX": self.redis_prefix,
            "SAGALINE_SIGNING_KEYS": self.signing_keys,
            "SAGALINE_API_TOKEN": self.api_token,
            "SAGALINE_SMTP_HOST": "127.0.0.1",
            "SAGALINE_SMTP_PORT": str(self.smtp_port),
            "SAGALINE_HTTP_HOST": "127.0.0.1",
            "SAGALINE_LOG_LEVEL": "WARNING",
            **self.extra_env,
        }


class System:
    """Start/stop the services; start sagas through the HTTP API; read their state from Redis."""

    def __init__(self, config: SystemConfig, coordinators: int = 1) -> None:
        """``coordinators`` processes share the work (0: the caller runs its own, in-process)."""
        if not 0 <= coordinators <= len(COORDINATOR_PORTS):
            raise ValueError(f"between 0 and {len(COORDINATOR_PORTS)} coordinators")
        self.config = config
        specs = [ServiceSpec(name, name, port) for name, port in JOBS]
        specs += [
            ServiceSpec(
                f"coordinator-{i}",
                "sagaline.saga",
                COORDINATOR_PORTS[i],
                {"SAGALINE_CONCURRENCY": str(config.coordinator_concurrency)},
            )
            for i in range(coordinators)
        ]
        self.processes = ProcessGroup(specs, config.log_dir / config.run_id, config.env())
        self.redis = aioredis.from_url(config.redis_url)
        self.store = SagaStore(self.redis, KeySpace(config.redis_prefix))
        self.http = httpx.AsyncClient(
            base_url=config.api_url,
            headers={"Authorization": f"Bearer {config.api_token}"},
            timeout=30.0,
            limits=httpx.Limits(max_connections=64),
        )

    async def start(self) -> None:
        await asyncio.to_thread(self.processes.start)

    async def stop(self) -> dict[str, int | None]:
        await self.http.aclose()
        codes = await asyncio.to_thread(self.processes.stop)
        await self.redis.aclose()
        return codes

    async def start_saga(self, data: dict[str, Any], key: str) -> str:
        response = await self.http.post(
            "/sagas", json={"workflow": "order_processing_workflow", "idempotency_key": key, "data": data}
        )
        response.raise_for_status()
        return str(response.json()["saga_id"])

    async def states(self, saga_ids: Iterable[str]) -> list[SagaState]:
        return await self.store.load_many(list(saga_ids))

    async def wait_final(self, saga_id: str, seconds: float = 120.0, poll: float = 0.01) -> SagaState:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = await self.store.load(saga_id)
            if state is not None and (state.status.terminal or state.status.value == "failed"):
                return state
            await asyncio.sleep(poll)
        raise TimeoutError(f"saga {saga_id} not final within {seconds:.0f}s")
