"""A derived job running against the real Kafka and Redis, with a producer and a reply collector."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from opentelemetry.sdk.trace import TracerProvider
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.job.app import JobApp, create_app
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.messages import Command
from sagaline.contracts.signing import KeyRing
from sagaline.contracts.testing.envelopes import command_envelope
from sagaline.contracts.testing.spy import HookSpy

DEFAULT_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Sent:
    """Where a record landed, to match it with its dead letter's source headers."""

    key: bytes
    topic: str
    partition: int
    offset: int


class _Collector:
    """Reads the events and DLQ topics from the beginning into memory, indexed by Kafka key."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self._consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        self.by_topic_and_key: defaultdict[tuple[str, bytes], list[ConsumerRecord[bytes, bytes]]] = (
            defaultdict(list)
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    self.by_topic_and_key[(record.topic, record.key or b"")].append(record)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


async def ensure_topics(bootstrap: str, partitions: dict[str, int]) -> None:
    """Create topics with the given partition counts; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(t, num_partitions=n, replication_factor=1) for t, n in partitions.items()]
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            # Another process may create one between the listing and this call.
            with suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, topics: list[str]) -> None:
    """Delete a run's own topics so a shared cluster does not fill up with test leftovers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if doomed := [t for t in topics if t in existing]:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


class JobHarness:
    """Drive one running job: sign and send commands, wait for its replies and dead letters.

    ``spy`` counts provider calls per operation and idempotency key and can inject delays and
    failures; ``app`` is the running ``JobApp`` (its settings, topics and metrics).
    """

    def __init__(
        self,
        app: JobApp,
        spy: HookSpy,
        producer: AIOKafkaProducer,
        collector: _Collector,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self.app = app
        self.wait_seconds = wait_seconds
        self.spy = spy
        self.key_ring: KeyRing = app.settings.key_ring()
        self._producer = producer
        self._collector = collector

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        job: TemplateJob,
        *,
        tracer_provider: TracerProvider | None = None,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> AsyncIterator[JobHarness]:
        """Start ``job`` (topics created first) and stop it, committing, on exit.

        ``wait_seconds`` bounds every wait for a reply or dead letter that names no bound itself.
        """
        spy = HookSpy.install(job)
        app = create_app(job, tracer_provider=tracer_provider)
        settings = app.settings
        bootstrap = settings.kafka_bootstrap
        topics = {app.topics.commands: settings.command_partitions, app.topics.events: 1, app.topics.dlq: 1}
        await ensure_topics(bootstrap, topics)
        async with AsyncExitStack() as stack:
            if settings.topic_prefix:
                # Only topics under a run's own prefix are its to delete; shared names never are.
                stack.push_async_callback(delete_topics, bootstrap, list(topics))
            collector = _Collector(bootstrap, [app.topics.events, app.topics.dlq])
            await collector.start()
            stack.push_async_callback(collector.stop)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
            await producer.start()
            stack.push_async_callback(producer.stop)
            await app.start()
            stack.push_async_callback(app.stop)
            yield cls(app, spy, producer, collector, wait_seconds)

    # -- sending -----------------------------------------------------------------------------

    def command(self, command: Command, **fields: Any) -> Envelope:
        """A signed command envelope of this job's template (fields override envelope fields)."""
        return command_envelope(self.app.job.template, command, self.key_ring, **fields)

    async def send(
        self,
        message: Envelope | bytes,
        *,
        key: bytes | None = None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Sent:
        """Produce to the job's commands topic; an envelope is keyed by its saga id by default."""
        if isinstance(message, Envelope):
            body, key = message.to_bytes(), key or message.saga_id.encode()
        else:
            body = message
        if key is None:
            raise ValueError("raw bytes need an explicit key to find their dead letter again")
        meta = await self._producer.send_and_wait(
            self.app.topics.commands, body, key=key, partition=partition, headers=headers
        )
        return Sent(key, meta.topic, meta.partition, meta.offset)

    # -- waiting -----------------------------------------------------------------------------

    async def replies(
        self, saga_id: str, count: int = 1, *, within: float | None = None
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """The first ``count`` reply records of a saga (AssertionError after ``within`` seconds)."""
        return await self._records(self.app.topics.events, saga_id.encode(), count, within)

    async def dead_letters(
        self, key: bytes, count: int = 1, *, within: float | None = None
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """The first ``count`` DLQ records produced from records with Kafka key ``key``."""
        return await self._records(self.app.topics.dlq, key, count, within)

    async def _records(
        self, topic: str, key: bytes, count: int, within: float | None
    ) -> list[ConsumerRecord[bytes, bytes]]:
        found = self._collector.by_topic_and_key[(topic, key)]
        what = f"{count} record(s) with key {key!r} on {topic}"
        await wait_until(lambda: len(found) >= count, within or self.wait_seconds, what)
        return found[:count]

    async def wait_assigned(self, within: float | None = None) -> None:
        """Wait until every partition of the commands topic is owned by one of the job's consumers
        and no consumer that could own one is idle (the group settled after start)."""
        consumers = _consumers(self.app)
        wanted = min(len(consumers), self.app.settings.command_partitions)

        def settled() -> bool:
            owned = [c.assignment() for c in consumers]
            return (
                sum(len(a) for a in owned) == self.app.settings.command_partitions
                and sum(1 for a in owned if a) == wanted
            )

        await wait_until(settled, within or self.wait_seconds, "the job's consumer group to settle")

    def duplicate_waits(self, operation: str) -> float:
        """How many commands of ``operation`` waited for a concurrent duplicate's outcome."""
        value = self.app.metrics.registry.get_sample_value(
            "sagaline_job_duplicate_waits_total", {"job": self.app.settings.job_name, "operation": operation}
        )
        return value or 0.0

    def dead_letter_count(self, reason: str) -> float:
        """The job's Prometheus DLQ counter for ``reason``."""
        value = self.app.metrics.registry.get_sample_value(
            "sagaline_job_dead_letters_total", {"job": self.app.settings.job_name, "reason": reason}
        )
        return value or 0.0


def _consumers(app: JobApp) -> list[AIOKafkaConsumer]:
    # FastStream keeps one consumer per worker in ``consumer_subgroup`` (several workers) or one
    # in ``consumer``; it has no public accessor for them.
    found: list[AIOKafkaConsumer] = []
    for subscriber in app.broker.subscribers:
        group = getattr(subscriber, "consumer_subgroup", None) or [getattr(subscriber, "consumer", None)]
        found.extend(c for c in group if c is not None)
    return found


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``condition`` until true; AssertionError naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(_POLL_SECONDS)
