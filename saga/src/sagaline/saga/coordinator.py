"""The coordinator process: consumes job replies, drives sagas, relays the outbox, fires timers.

Offsets of consumed replies are committed only after their transition is stored (AckPolicy.MANUAL,
in batches: ``OffsetCommitter``); a reply whose transition could not be stored is rewound and read
again.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.job.commits import OffsetCommitter
from sagaline.contracts.job.kafka import (
    FinishBeforeRevoke,
    Lifecycle,
    commit_handled,
    tolerant_parser,
    undecoded,
)
from sagaline.contracts.job.telemetry import log_context
from sagaline.contracts.signing import SignatureError
from sagaline.contracts.topics import DLQ, commands_topic, events_topic
from sagaline.contracts.versioning import accepts
from sagaline.saga.engine import Engine
from sagaline.saga.incoming import ReplyReceived
from sagaline.saga.keys import KeySpace
from sagaline.saga.metrics import DLQ as DLQ_COUNT
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.relay import OutboxRelay
from sagaline.saga.settings import CoordinatorSettings
from sagaline.saga.store import SagaStore
from sagaline.saga.timers import TimerPoller

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topology:
    commands: tuple[str, ...]
    events: tuple[str, ...]
    dlq: str

    @classmethod
    def of(cls, registry: WorkflowRegistry, prefix: str = "") -> Topology:
        commands: set[str] = set()
        events: set[str] = set()
        for definition in registry:
            for step in definition.steps:
                events.add(prefix + events_topic(step.template))
                commands.update(prefix + commands_topic(step.template, p) for p in step.providers)
        return cls(tuple(sorted(commands)), tuple(sorted(events)), prefix + DLQ)


class UnknownContractMajor(ValueError):
    """An event of a major version of its template that this coordinator was not built for."""


class Coordinator:
    def __init__(
        self,
        settings: CoordinatorSettings,
        registry: WorkflowRegistry,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.topology = Topology.of(registry, settings.topic_prefix)
        # The contract version each template's events must match (by major) to be read at all.
        self.contracts = {step.template.name: step.template.version for d in registry for step in d.steps}
        self.keyring = settings.key_ring()
        self.redis = aioredis.from_url(settings.redis_url.get_secret_value())
        self.store = SagaStore(
            self.redis, KeySpace(settings.redis_prefix, settings.redis_buckets), settings.lease_seconds
        )
        self.producer = AIOKafkaProducer(
            **settings.aiokafka_options(), enable_idempotence=True, acks="all", linger_ms=1
        )
        self.relay = OutboxRelay(self.store, self.producer)
        self.engine = Engine(
            registry,
            self.store,
            self.relay,
            self.keyring,
            topic_prefix=settings.topic_prefix,
            tracer_provider=tracer_provider,
        )
        self.timers = TimerPoller(self.engine, interval=settings.timer_interval)
        self.lifecycle = Lifecycle()
        self.committer = OffsetCommitter(settings.commit_interval_seconds)
        middlewares = [KafkaTelemetryMiddleware(tracer_provider=tracer_provider)] if tracer_provider else []
        self.broker = KafkaBroker(
            settings.kafka_bootstrap,
            middlewares=middlewares,
            logger=None,
            security=settings.kafka_security(),
            # The handler reads the raw record; FastDepends' per-message injection was ~15% of the
            # coordinator's CPU in a py-spy profile under load, for nothing it uses.
            apply_types=False,
        )
        # One subscriber and one consumer group per events topic: FastStream's concurrent
        # manual-commit mode takes one topic each, a slow template cannot stall the others, and a
        # consumer joining one group does not stop every other topic's consumers for a rebalance.
        for topic in self.topology.events:
            self.broker.subscriber(
                topic,
                group_id=f"{settings.topic_prefix}{settings.consumer_group}.{topic.removeprefix(settings.topic_prefix)}",
                ack_policy=AckPolicy.MANUAL,
                auto_offset_reset="earliest",
                heartbeat_interval_ms=settings.consumer_heartbeat_ms,
                max_workers=settings.concurrency,
                listener=FinishBeforeRevoke(self.lifecycle, settings.shutdown_grace_seconds, self.committer),
                # The handler gets the raw record: undecodable bytes must reach the DLQ intact.
                parser=tolerant_parser,
                decoder=undecoded,
            )(self._on_event)

    async def start(self) -> None:
        if self.settings.declare_topics:
            await self.declare_topics()
        await self.producer.start()
        await self.relay.start()
        # Whatever a previous incarnation committed but did not publish goes out first.
        await self.relay.recover_once()
        await self.broker.start()
        await self.timers.start()
        log.info("coordinator consuming %s", ", ".join(self.topology.events))

    async def stop(self) -> None:
        # Stop taking replies, let those being applied finish, commit them, then stop consuming.
        if not await self.lifecycle.drain(self.settings.shutdown_grace_seconds):
            log.warning("stop grace ran out with replies being applied; they will be read again")
        await self.committer.close()
        await self.broker.stop()
        await self.timers.stop()
        await self.relay.stop()
        await self.producer.stop()
        await self.redis.aclose()

    async def declare_topics(self) -> None:
        admin = AIOKafkaAdminClient(**self.settings.aiokafka_options())
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [*self.topology.commands, *self.topology.events, self.topology.dlq]
            missing = [
                NewTopic(t, num_partitions=self.settings.topic_partitions, replication_factor=1)
                for t in wanted
                if t not in existing
            ]
            if missing:
                # Another replica may create them first.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
        finally:
            await admin.close()

    async def _on_event(self, message: Any) -> None:
        msg = cast(KafkaMessage, message)
        if self.lifecycle.draining:
            return  # left uncommitted on purpose: the next owner of the partition reads it
        async with self.lifecycle.track():
            await self._apply_event(msg)

    async def _apply_event(self, msg: KafkaMessage) -> None:
        body: bytes = msg.body
        try:
            envelope = Envelope.from_bytes(body)
            self.keyring.verify(envelope)
            if envelope.kind is not Kind.EVENT:
                raise ValueError(f"expected an event, got a {envelope.kind}")
            self._check_contract(envelope)
        except (ValidationError, SignatureError, ValueError) as exc:
            await self._dead_letter(body, msg, exc)
            await commit_handled(msg, self.committer)
            return
        try:
            with log_context(saga_id=envelope.saga_id, step=envelope.step):
                await self.engine.apply(ReplyReceived(envelope))
        except Exception:
            log.exception(
                "could not apply %s to saga %s; will re-read it", envelope.message_type, envelope.saga_id
            )
            await msg.nack()
            raise
        await commit_handled(msg, self.committer)

    def _check_contract(self, envelope: Envelope) -> None:
        known = self.contracts.get(envelope.template_name)
        if known is not None and not accepts(known, envelope.contract_version):
            raise UnknownContractMajor(
                f"{envelope.contract} cannot be read by this coordinator "
                f"({envelope.template_name}@{known}: same major required)"
            )

    async def _dead_letter(self, body: bytes, msg: KafkaMessage, exc: Exception) -> None:
        reason = {
            ValidationError: "undecodable",
            SignatureError: "bad_signature",
            UnknownContractMajor: "unknown_contract_major",
        }.get(type(exc), "not_an_event")
        DLQ_COUNT.labels(reason).inc()
        record = msg.raw_message
        assert not isinstance(record, tuple)
        headers = [
            ("x-sagaline-reason", reason.encode()),
            ("x-sagaline-detail", str(exc)[:500].encode()),
            ("x-sagaline-source-topic", record.topic.encode()),
            ("x-sagaline-source-partition", str(record.partition).encode()),
            ("x-sagaline-source-offset", str(record.offset).encode()),
            ("x-sagaline-job", self.settings.service_name.encode()),
        ]
        await self.producer.send_and_wait(self.topology.dlq, body, key=record.key, headers=headers)
        log.warning("dead-lettered a record of %s: %s", record.topic, reason)
