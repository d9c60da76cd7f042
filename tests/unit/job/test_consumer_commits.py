"""When the consumer commits: after the reply, never on an infrastructure failure, never while draining."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from sagaline.contracts.job import MemoryIdempotencyStore
from sagaline.contracts.job.kafka import Lifecycle, command_consumer
from sagaline.contracts.job.metrics import JobMetrics
from sagaline.contracts.templates.payment_gateway import ChargePayment

pytestmark = pytest.mark.unit


@dataclass
class Record:
    topic: str = "cmds"
    partition: int = 0
    offset: int = 41
    key: bytes | None = b"k"


@dataclass
class FakeMessage:
    """The parts of FastStream's KafkaMessage the consumer uses, recording ack/nack."""

    body: bytes
    raw_message: Record = field(default_factory=Record)
    events: list[str] = field(default_factory=list)
    fail_commit: bool = False

    async def ack(self) -> None:
        if self.fail_commit:
            raise RuntimeError("rebalance in progress")
        self.events.append("ack")

    async def nack(self) -> None:
        self.events.append("nack")


class RedisDown(MemoryIdempotencyStore):
    async def acquire(self, key, token, lease_seconds):
        raise ConnectionError("redis unreachable")


def consumer(rig, lifecycle=None):
    lifecycle = lifecycle or Lifecycle(rig.app.metrics)
    return command_consumer(rig.app.runtime, lifecycle, rig.app.metrics, rig.app.committer), lifecycle


def valid_body(rig) -> bytes:
    return rig.command(ChargePayment(order_id="o", amount_cents=1, card_token="t")).to_bytes()


async def test_the_offset_is_committed_after_the_reply_is_published(rig):
    consume, _ = consumer(rig)
    message = FakeMessage(valid_body(rig))

    await consume(message)

    assert message.events == ["ack"]
    assert len(rig.replies) == 1


async def test_a_dead_lettered_record_is_committed_too(rig):
    consume, _ = consumer(rig)
    message = FakeMessage(b"not an envelope")

    await consume(message)

    assert message.events == ["ack"]
    assert len(rig.dead_letters) == 1


async def test_when_redis_is_down_the_record_is_rewound_not_committed(rig, monkeypatch):
    monkeypatch.setattr(rig.app.runtime, "_store", RedisDown())
    consume, _ = consumer(rig)
    message = FakeMessage(valid_body(rig))

    await consume(message)

    assert message.events == ["nack"]
    assert rig.replies == rig.dead_letters == []
    assert rig.spy.calls("charge") == 0
    errors = rig.app.metrics.registry.get_sample_value(
        "sagaline_job_infrastructure_errors_total", {"job": "fake_payment_job"}
    )
    assert errors == 1


async def test_a_failed_commit_does_not_fail_the_handler_because_a_redelivery_is_replayed(rig):
    consume, _ = consumer(rig)
    body = valid_body(rig)

    await consume(FakeMessage(body, fail_commit=True))
    await consume(FakeMessage(body))

    assert len(rig.replies) == 2
    assert rig.spy.calls("charge") == 1


async def test_while_draining_records_are_neither_handled_nor_committed(rig):
    consume, lifecycle = consumer(rig)
    assert await lifecycle.drain(grace_seconds=1.0)
    message = FakeMessage(valid_body(rig))

    await consume(message)

    assert message.events == []
    assert rig.replies == []


async def test_drain_waits_for_the_command_in_flight_to_finish_and_commit(rig):
    rig.spy.delay("charge", 0.1)
    consume, lifecycle = consumer(rig)
    message = FakeMessage(valid_body(rig))

    in_flight = asyncio.create_task(consume(message))
    await asyncio.sleep(0.02)
    drained = await lifecycle.drain(grace_seconds=5.0)

    assert drained
    assert message.events == ["ack"]
    await in_flight


async def test_drain_gives_up_after_its_grace_period():
    lifecycle = Lifecycle(JobMetrics("j"))
    entered = asyncio.Event()

    async def stuck() -> None:
        async with lifecycle.track():
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(stuck())
    await entered.wait()
    try:
        assert not await lifecycle.drain(grace_seconds=0.05)
    finally:
        task.cancel()
