"""Offsets committed in batches: once a record is handled its offset is due, and one commit per
consumer carries every due offset, at most ``interval`` seconds after the first of them.

A commit per record is one more Kafka request per message, on the consumer and on the broker; under
load that was a tenth of a job's CPU. Batching changes when an offset is committed, never what: an
offset is committed only after its record was handled (reply published, or transition stored), so
delivery stays at-least-once. A crash loses at most ``interval`` seconds of commits; those records
are consumed again and answered from the idempotency store (jobs) or ignored as duplicates (the
coordinator). Before partitions move to another consumer and before a consumer stops, the owner
flushes what is due, so a rebalance or a graceful stop replays nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Any, Protocol, runtime_checkable

from aiokafka import TopicPartition

_log = logging.getLogger("sagaline.job.commits")


@runtime_checkable
class Committing(Protocol):
    """The part of ``AIOKafkaConsumer`` the committer uses (FastStream's in-memory test broker
    hands out a consumer without it; its messages are acknowledged the usual way)."""

    def assignment(self) -> set[TopicPartition]: ...

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...


class OffsetCommitter:
    """Collects handled offsets per consumer and commits them together, in the background."""

    def __init__(self, interval: float = 0.1) -> None:
        if interval < 0:
            raise ValueError("the commit interval cannot be negative")
        self.interval = interval
        self._due: dict[Committing, dict[TopicPartition, int]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def handled(self, consumer: Committing, record: Any) -> None:
        """``record`` (from ``consumer``) was handled: its offset + 1 is due for commit."""
        due = self._due.setdefault(consumer, {})
        partition = TopicPartition(record.topic, record.partition)
        due[partition] = max(due.get(partition, 0), record.offset + 1)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="offset-commit")

    def pending(self) -> int:
        """Partitions with an offset due and not yet committed."""
        return sum(len(due) for due in self._due.values())

    async def flush(self, partitions: Collection[TopicPartition] | None = None) -> None:
        """Commit what is due now (only for ``partitions`` if given). A failed commit is logged,
        not raised: its records are consumed again and answered as duplicates."""
        async with self._lock:
            batches = list(self._take(partitions).items())
            for index, (consumer, offsets) in enumerate(batches):
                # A partition revoked without a flush (a failed one) is not ours to commit.
                owned = {tp: offset for tp, offset in offsets.items() if tp in consumer.assignment()}
                if not owned:
                    continue
                try:
                    await consumer.commit(owned)
                except asyncio.CancelledError:
                    # Stopped mid-commit (close() stops the background flusher): what this round
                    # took is due again, so the flush that follows still commits it.
                    self._restore(batches[index:])
                    raise
                except Exception as exc:
                    _log.warning("offset commit failed (%s); those records may be consumed again", exc)

    async def close(self) -> None:
        """Commit everything due and stop the background flusher."""
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.flush()

    async def _flush_soon(self) -> None:
        # Offsets that come due while a commit is on the wire go out in the next round.
        while self._due:
            await asyncio.sleep(self.interval)
            await self.flush()

    def _restore(self, batches: list[tuple[Committing, dict[TopicPartition, int]]]) -> None:
        for consumer, offsets in batches:
            due = self._due.setdefault(consumer, {})
            for partition, offset in offsets.items():
                due[partition] = max(due.get(partition, 0), offset)

    def _take(
        self, partitions: Collection[TopicPartition] | None
    ) -> dict[Committing, dict[TopicPartition, int]]:
        if partitions is None:
            taken, self._due = self._due, {}
            return taken
        wanted = set(partitions)
        taken = {}
        for consumer, due in self._due.items():
            mine = {tp: due.pop(tp) for tp in list(due) if tp in wanted}
            if mine:
                taken[consumer] = mine
        self._due = {consumer: due for consumer, due in self._due.items() if due}
        return taken
