"""A real coordinator (real Kafka, real Redis) behind the API, and a stand-in for the derived jobs.

Each test gets its own Redis key prefix, topic prefix and consumer group, removed afterwards. The
derived jobs are played by ``JobDouble``: it answers the command a saga waits on by publishing a
signed reply to the template's events topic, which the coordinator consumes like any other.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.messages import Reply
from sagaline.contracts.topics import events_topic
from sagaline.saga.api import create_api
from sagaline.saga.coordinator import Coordinator
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.settings import CoordinatorSettings
from sagaline.saga.state import Phase, SagaState
from sagaline.saga.workflows import register_default_workflows

TOKEN = "test-token-" + uuid.uuid4().hex
SIGNING_KEYS = "it-key:" + uuid.uuid4().hex

ORDER: dict[str, Any] = {
    "order_id": "ord-1001",
    "customer_email": "ada@example.com",
    "items": [{"sku": "sku-mug", "quantity": 2}],
    "amount_cents": 2599,
    "currency": "EUR",
    "card_token": "tok_visa_4242_secret",
    "recipient_name": "Ada Lovelace",
    "address_line": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 20.0) -> None:
    try:
        async with asyncio.timeout(within):
            # Polling a store: there is no event to wait on.
            while True:
                if await check():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {within}s waiting for {what}") from None


def coordinator_settings(infra: Any, tag: str, **overrides: Any) -> CoordinatorSettings:
    return CoordinatorSettings(
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        redis_prefix=f"it-api:{tag}",
        redis_buckets=4,
        topic_prefix=f"it-api-{tag}.",
        topic_partitions=1,
        concurrency=1,
        signing_keys=SIGNING_KEYS,
        api_token=TOKEN,
        **overrides,
    )


async def remove_traces(infra: Any, tag: str) -> None:
    """Delete the Redis keys and Kafka topics of one test's prefixes."""
    client = aioredis.from_url(infra.redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"it-api:{tag}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"it-api-{tag}.")]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


@pytest.fixture
async def coordinator(infra: Any) -> AsyncIterator[Coordinator]:
    tag = uuid.uuid4().hex[:10]
    running = Coordinator(coordinator_settings(infra, tag), register_default_workflows(WorkflowRegistry()))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        await remove_traces(infra, tag)


@pytest.fixture
async def api(coordinator: Coordinator) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the running coordinator, authorised with the right token."""
    app = create_api(coordinator, coordinator.settings)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sagaline.test", headers=headers) as c:
        yield c


@pytest.fixture
def jobs(coordinator: Coordinator) -> JobDouble:
    return JobDouble(coordinator)


class JobDouble:
    """Answers a saga's pending command the way its derived job would: over Kafka, signed."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    async def reply(self, saga_id: str, reply: Reply) -> SagaState:
        """Reply to what ``saga_id`` waits on; returns the saga once the coordinator applied it."""
        store = self.coordinator.store
        before = await store.load(saga_id)
        assert before is not None, f"no saga {saga_id}"
        assert before.pending is not None, f"saga {saga_id} waits on nothing"
        pending = before.pending
        definition = self.coordinator.registry.for_saga(before.workflow, before.workflow_version)
        if pending.phase is Phase.FORWARD:
            template = definition.step(pending.step).template
        else:
            template = next(
                s.template for s in definition.steps if s.compensation and s.compensation.name == pending.step
            )
        envelope = Envelope(
            message_type=reply.message_type,
            saga_id=saga_id,
            workflow=before.workflow,
            workflow_version=before.workflow_version,
            step=pending.step,
            attempt=pending.attempt,
            kind=Kind.EVENT,
            contract=template.contract,
            provider=pending.provider,
            idempotency_key=pending.idempotency_key,
            causation_id=pending.message_id,
            payload=reply.model_dump(mode="json"),
        )
        signed = self.coordinator.keyring.sign(envelope)
        topic = self.coordinator.settings.topic_prefix + events_topic(template)
        await self.coordinator.producer.send_and_wait(topic, signed.to_bytes(), key=saga_id.encode())
        after: SagaState | None = None

        async def applied() -> bool:
            nonlocal after
            after = await store.load(saga_id)
            return after is not None and after.version > before.version

        await eventually(applied, f"{reply.message_type} to be applied to saga {saga_id}")
        assert after is not None
        return after


@pytest.fixture
def order() -> dict[str, Any]:
    """Valid order data; the card token is distinctive so a leak of it is easy to spot."""
    return dict(ORDER)


@pytest.fixture
def start_order(api: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Start an order saga with ``key`` (data changed by keyword arguments); returns its view."""

    async def start(key: str, **changes: Any) -> dict[str, Any]:
        body = {"workflow": "order_processing_workflow", "idempotency_key": key, "data": {**ORDER, **changes}}
        response = await api.post("/sagas", json=body)
        assert response.status_code == 201, response.text
        view: dict[str, Any] = response.json()
        return view

    return start


@dataclass
class CoordinatorProcess:
    """A ``python -m sagaline.saga`` process: the real entry point, as its container runs it."""

    tag: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    token: str = TOKEN

    def log_lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"coordinator ignored SIGTERM for {timeout}s") from None
        return self.process.returncode


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def process_env(infra: Any, tag: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGALINE_")}
    env.update(
        SAGALINE_KAFKA_BOOTSTRAP=infra.kafka_bootstrap,
        SAGALINE_REDIS_URL=infra.redis_url,
        SAGALINE_REDIS_PREFIX=f"it-api:{tag}",
        SAGALINE_REDIS_BUCKETS="4",
        SAGALINE_TOPIC_PREFIX=f"it-api-{tag}.",
        SAGALINE_TOPIC_PARTITIONS="1",
        SAGALINE_CONCURRENCY="1",
        SAGALINE_SIGNING_KEYS=SIGNING_KEYS,
        SAGALINE_API_TOKEN=TOKEN,
        SAGALINE_HTTP_HOST="127.0.0.1",
        SAGALINE_HTTP_PORT=str(port),
    )
    return env


@pytest.fixture(scope="session")
async def launch(
    infra: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Callable[[], CoordinatorProcess]]:
    """Start coordinator processes on free ports, each with its own prefixes; at the end of the
    session stop the ones still running and delete what all of them left in Redis and Kafka."""
    started: list[CoordinatorProcess] = []

    def start() -> CoordinatorProcess:
        tag = uuid.uuid4().hex[:10]
        port = _free_port()
        log = tmp_path_factory.mktemp("coordinator") / "stderr.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "sagaline.saga"],
                env=process_env(infra, tag, port),
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
        running = CoordinatorProcess(tag, f"http://127.0.0.1:{port}", process, log)
        started.append(running)
        _wait_ready(running)
        return running

    yield start
    for running in started:
        running.stop()
        await remove_traces(infra, running.tag)


def _wait_ready(running: CoordinatorProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            tail = "\n".join(running.log_lines()[-20:])
            raise AssertionError(f"coordinator exited with {running.process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{running.url}/ready", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"coordinator not ready within {timeout}s; log: {running.log}")
