"""The Kafka side of a job: the broker it runs on and how a record is consumed and committed."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from opentelemetry.sdk.trace import TracerProvider
from sagaline.contracts.job.commits import Committing, OffsetCommitter
from sagaline.contracts.job.dlq import Source
from sagaline.contracts.job.metrics import JobMetrics
from sagaline.contracts.job.runtime import JobRuntime, Publish
from sagaline.contracts.job.settings import JobSettings

_log = logging.getLogger("sagaline.job.kafka")
_MAX_BACKOFF_SECONDS = 5.0


def make_broker(
    settings: JobSettings, *, tracer_provider: TracerProvider, metrics: JobMetrics, **overrides: Any
) -> KafkaBroker:
    """A broker for one job: idempotent producer (acks=all), tracing and metrics middlewares.

    Trace context crosses Kafka in W3C headers through FastStream's telemetry middleware only;
    the aiokafka auto-instrumentation must stay off or every record carries two traceparents.
    """
    options: dict[str, Any] = {
        "enable_idempotence": True,
        "client_id": settings.job_name,
        "graceful_timeout": settings.shutdown_grace_seconds,
        # The runtime reads the raw record itself; FastDepends would only add per-message cost.
        "apply_types": False,
        "logger": logging.getLogger("sagaline.faststream"),
        # FastStream logs every received/processed message at this level: keep it out of INFO.
        "log_level": logging.DEBUG,
        "middlewares": (
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=metrics.registry, app_name=settings.job_name),
        ),
        "security": kafka_security(settings),
    }
    options.update(overrides)
    return KafkaBroker(settings.kafka_bootstrap, **options)


def kafka_security(settings: JobSettings) -> BaseSecurity | None:
    """SASL/SCRAM and/or TLS from settings; None for a plaintext listener."""
    context = ssl.create_default_context(cafile=settings.kafka_ca_file) if settings.kafka_tls else None
    password = settings.kafka_password.get_secret_value()
    if settings.kafka_sasl_mechanism == "SCRAM-SHA-256":
        return SASLScram256(settings.kafka_username, password, ssl_context=context)
    if settings.kafka_sasl_mechanism == "SCRAM-SHA-512":
        return SASLScram512(settings.kafka_username, password, ssl_context=context)
    if context is not None:
        return BaseSecurity(ssl_context=context)
    return None


async def tolerant_parser(
    record: ConsumerRecord[Any, Any],
    original: Callable[[ConsumerRecord[Any, Any]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's parser, after making header values valid UTF-8.

    FastStream decodes every header as UTF-8 before any handler runs; one foreign header would
    raise outside the handler and the record would be skipped without reaching the DLQ.
    """
    if any(value is None or not _is_utf8(value) for _, value in record.headers):
        record.headers = tuple(
            (name, (value or b"").decode("utf-8", "replace").encode()) for name, value in record.headers
        )
    return await original(record)


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


async def undecoded(message: StreamMessage[Any]) -> StreamMessage[Any]:
    """Hand the handler the message itself: the body stays raw bytes whatever its content-type.

    A coroutine on purpose: FastStream runs a plain function decoder in a worker thread, which
    costs a thread hop per record.
    """
    return message


class Lifecycle:
    """Tracks in-flight records so shutdown can wait for them before consumers stop."""

    def __init__(self, metrics: JobMetrics | None = None) -> None:
        self.draining = False
        self.started = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._metrics = metrics
        self._failures = 0

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._in_flight += 1
        self._idle.clear()
        if self._metrics is not None:
            self._metrics.in_flight.inc()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._metrics is not None:
                self._metrics.in_flight.dec()
            if self._in_flight == 0:
                self._idle.set()

    async def drain(self, grace_seconds: float) -> bool:
        """Stop taking commands and wait for those in flight; False if the grace ran out."""
        self.draining = True
        return await self.wait_idle(grace_seconds)

    async def wait_idle(self, grace_seconds: float) -> bool:
        """Wait until no command is in flight; False if ``grace_seconds`` ran out first."""
        try:
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def failed(self) -> None:
        """Back off after an infrastructure failure, longer each time in a row."""
        self._failures += 1
        await asyncio.sleep(min(0.1 * 2 ** (self._failures - 1), _MAX_BACKOFF_SECONDS))

    def succeeded(self) -> None:
        self._failures = 0


class FinishBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Lets records in flight finish and commit before their partitions move to another consumer.

    Without it, a record handled during a rebalance is committed too late (the commit fails), so
    the new owner consumes it again and re-publishes the stored reply: correct, but a duplicate.
    aiokafka hands out no new records once a rebalance begins, so waiting here is bounded. The
    offsets still due for the revoked partitions are committed here, while they are still ours.
    """

    def __init__(self, lifecycle: Lifecycle, grace_seconds: float, committer: OffsetCommitter) -> None:
        self._lifecycle = lifecycle
        self._grace = grace_seconds
        self._committer = committer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        if not await self._lifecycle.wait_idle(self._grace):
            _log.warning("partitions revoked with records still in flight; they may be replayed")
        await self._committer.flush(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do: positions restart from the committed offsets."""


async def commit_handled(message: KafkaMessage, committer: OffsetCommitter) -> None:
    """Mark a handled record for the committer's next batch (FastStream's in-memory consumer has
    no offsets to commit: there the message is acknowledged as usual)."""
    consumer = getattr(message, "consumer", None)
    if isinstance(consumer, Committing):
        committer.handled(consumer, message.raw_message)
    else:
        await message.ack()


def command_consumer(
    runtime: JobRuntime, lifecycle: Lifecycle, metrics: JobMetrics, committer: OffsetCommitter
) -> Callable[[Any], Awaitable[None]]:
    """The subscriber body: process, then commit (batched); on Redis/Kafka failure rewind instead."""

    async def consume_command(message: Any) -> None:
        msg = cast(KafkaMessage, message)
        if lifecycle.draining:
            # Left uncommitted on purpose: the next owner of the partition consumes it.
            return
        record = cast(ConsumerRecord[Any, Any], msg.raw_message)
        source = Source(record.topic, record.partition, record.offset, record.key)
        async with lifecycle.track():
            try:
                await runtime.process(msg.body, source)
            except Exception:
                metrics.infrastructure_error()
                _log.exception(
                    "infrastructure failure on %s/%d@%d; consuming it again",
                    source.topic,
                    source.partition,
                    source.offset,
                )
                # Seek back so a later commit cannot skip this record.
                await msg.nack()
                rewound = True
            else:
                rewound = False
                lifecycle.succeeded()
                try:
                    await commit_handled(msg, committer)
                except Exception as exc:
                    # The reply is out; a redelivery is answered from the idempotency store.
                    _log.warning("offset commit failed (%s); the record may be consumed again", exc)
        if rewound:
            # Outside track(): a shutdown need not wait for this back-off.
            await lifecycle.failed()

    return consume_command


def publisher(broker: KafkaBroker) -> Publish:
    async def publish(body: bytes, topic: str, key: bytes | None, headers: Mapping[str, str]) -> None:
        await broker.publish(body, topic, key=key, headers=dict(headers))

    return publish
