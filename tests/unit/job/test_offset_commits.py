"""Batched offset commits: only handled offsets, one request per batch, nothing stranded."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from aiokafka import TopicPartition
from sagaline.contracts.job.commits import OffsetCommitter
from sagaline.contracts.job.kafka import Lifecycle, command_consumer
from sagaline.contracts.templates.payment_gateway import ChargePayment
from sagaline.contracts.testing import wait_until

pytestmark = pytest.mark.unit

P0, P1 = TopicPartition("cmds", 0), TopicPartition("cmds", 1)


@dataclass
class Record:
    partition: int
    offset: int
    topic: str = "cmds"
    key: bytes | None = b"k"


@dataclass(eq=False)
class FakeConsumer:
    owned: set[TopicPartition] = field(default_factory=lambda: {P0, P1})
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    fail: bool = False
    hold: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    def assignment(self) -> set[TopicPartition]:
        return self.owned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail:
            raise RuntimeError("rebalance in progress")
        self.commits.append(dict(offsets))


async def test_records_handled_together_are_committed_in_one_request_at_their_next_offsets():
    consumer, committer = FakeConsumer(), OffsetCommitter(interval=0.02)
    for partition, offset in [(0, 5), (1, 9), (0, 6), (0, 7)]:
        committer.handled(consumer, Record(partition, offset))

    assert consumer.commits == []
    await wait_until(lambda: consumer.commits != [], 1.0, "the batched commit")
    assert consumer.commits == [{P0: 8, P1: 10}]
    assert committer.pending() == 0


async def test_a_revoke_commits_only_the_revoked_partitions_and_keeps_the_rest_due():
    consumer, committer = FakeConsumer(), OffsetCommitter(interval=10)
    committer.handled(consumer, Record(0, 1))
    committer.handled(consumer, Record(1, 2))

    await committer.flush({P0})

    assert consumer.commits == [{P0: 2}]
    assert committer.pending() == 1
    await committer.close()
    assert consumer.commits == [{P0: 2}, {P1: 3}]


async def test_a_partition_no_longer_assigned_is_not_committed_by_its_old_owner():
    consumer, committer = FakeConsumer(owned={P1}), OffsetCommitter(interval=10)
    committer.handled(consumer, Record(0, 1))

    await committer.close()

    assert consumer.commits == []


async def test_a_failed_commit_is_not_raised_because_its_records_are_answered_again():
    consumer, committer = FakeConsumer(fail=True), OffsetCommitter(interval=10)
    committer.handled(consumer, Record(0, 1))

    await committer.close()

    assert consumer.commits == []
    assert committer.pending() == 0


async def test_offsets_that_come_due_during_a_commit_go_out_in_the_next_round():
    hold = asyncio.Event()
    consumer, committer = FakeConsumer(hold=hold), OffsetCommitter(interval=0.01)
    committer.handled(consumer, Record(0, 1))
    await asyncio.wait_for(consumer.entered.wait(), 1.0)  # the first commit is on the wire, held
    committer.handled(consumer, Record(0, 2))
    hold.set()

    await wait_until(lambda: len(consumer.commits) == 2, 1.0, "the second round")
    assert consumer.commits == [{P0: 2}, {P0: 3}]


async def test_a_stop_during_a_background_commit_still_commits_what_that_round_took():
    hold = asyncio.Event()
    consumer, committer = FakeConsumer(hold=hold), OffsetCommitter(interval=0.01)
    committer.handled(consumer, Record(0, 1))
    committer.handled(consumer, Record(1, 4))
    await asyncio.wait_for(consumer.entered.wait(), 1.0)  # the round took both offsets; commit held
    consumer.hold = None

    await committer.close()  # cancels that round mid-commit

    assert consumer.commits == [{P0: 2, P1: 5}]
    assert committer.pending() == 0


def test_a_negative_interval_is_refused():
    with pytest.raises(ValueError, match="negative"):
        OffsetCommitter(interval=-1)


@dataclass
class ConsumedMessage:
    """A FastStream message as the real consumer delivers it: with the consumer that read it."""

    body: bytes
    consumer: FakeConsumer
    raw_message: Record = field(default_factory=lambda: Record(0, 41))
    events: list[str] = field(default_factory=list)

    async def ack(self) -> None:
        self.events.append("ack")

    async def nack(self) -> None:
        self.events.append("nack")


async def test_the_job_commits_a_handled_command_in_the_next_batch_not_one_request_each(rig):
    committer = OffsetCommitter(interval=10)
    consume = command_consumer(rig.app.runtime, Lifecycle(), rig.app.metrics, committer)
    consumer = FakeConsumer()
    body = rig.command(ChargePayment(order_id="o", amount_cents=1, card_token="t")).to_bytes()

    for offset in (41, 42):
        message = ConsumedMessage(body, consumer, Record(0, offset))
        await consume(message)
        assert message.events == []

    assert len(rig.replies) == 2
    assert consumer.commits == []
    await committer.close()
    assert consumer.commits == [{P0: 43}]
