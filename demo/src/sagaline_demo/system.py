"""The whole Sagaline system as processes on the local stack: coordinator plus every derived job.

Each run gets its own topic and Redis prefix, so runs never see each other's messages or state and
``make demo`` can run again and again on the same stack.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from sagaline.saga.keys import KeySpace
from sagaline.saga.state import SagaState, SagaStatus
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
    coordinator_concurrency: int = 4
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


_SETTLED = {status.value for status in SagaStatus if status.terminal} | {SagaStatus.FAILED.value}


class FinalStates:
    """Waits for many sagas at once: one poller reads the status of every saga waited on in one
    Redis round trip per ``poll`` seconds, and parses a saga's state only once it has settled.

    Polling each saga on its own costs a round trip and a parse per saga per poll: with a few
    dozen sagas in flight that was a third of a core, taken from the system being measured.
    """

    def __init__(self, store: SagaStore, poll: float) -> None:
        self._store = store
        self._poll = poll
        self._waiting: dict[str, list[asyncio.Future[SagaState]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def wait(self, saga_id: str, seconds: float) -> SagaState:
        future: asyncio.Future[SagaState] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(saga_id, []).append(future)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._run(), name="final-states")
        try:
            async with asyncio.timeout(seconds):
                return await future
        except TimeoutError:
            raise TimeoutError(f"saga {saga_id} not final within {seconds:.0f}s") from None
        finally:
            waiters = self._waiting.get(saga_id, [])
            if future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiting[saga_id]

    async def _run(self) -> None:
        try:
            while self._waiting:
                saga_ids = list(self._waiting)
                statuses = await self._store.statuses(saga_ids)
                settled = [i for i, status in zip(saga_ids, statuses, strict=True) if status in _SETTLED]
                for state in await self._store.load_many(settled):
                    for future in self._waiting.pop(state.saga_id, []):
                        if not future.done():
                            future.set_result(state)
                await asyncio.sleep(self._poll)
        except Exception as exc:  # Redis failed: every waiter hears it rather than timing out
            for futures in self._waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            raise

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)


class System:
    """Start/stop the services; start sagas through the HTTP API; read their state from Redis."""

    def __init__(
        self,
        config: SystemConfig,
        coordinators: int = 1,
        poll_seconds: float = 0.01,
        jobs: Sequence[ServiceSpec] | None = None,
    ) -> None:
        """``coordinators`` processes share the work (0: the caller runs its own, in-process);
        ``wait_final`` looks for settled sagas every ``poll_seconds``; ``jobs`` replaces the five
        derived-job services (the benchmark runs no-op jobs to measure the framework alone)."""
        if not 0 <= coordinators <= len(COORDINATOR_PORTS):
            raise ValueError(f"between 0 and {len(COORDINATOR_PORTS)} coordinators")
        self.config = config
        specs = list(jobs) if jobs is not None else [ServiceSpec(name, name, port) for name, port in JOBS]
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
        self._final = FinalStates(self.store, poll_seconds)
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
        await self._final.close()
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

    async def wait_final(self, saga_id: str, seconds: float = 120.0) -> SagaState:
        """The saga's state once it is completed, compensated, cancelled or failed."""
        return await self._final.wait(saga_id, seconds)
