"""The outbox relay: publishes committed messages to Kafka and forgets them once the broker has them.

Fast path: the process that committed a transition publishes its entries at once. Recovery path:
entries whose lease ran out (their publisher died between commit and publish) are claimed by any
coordinator and sent again; receivers dedupe by idempotency key, so a second send is harmless.
Acknowledgements to Redis are batched, so a steady stream costs far less than one round trip each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from sagaline.saga._tasks import cancel_and_wait
from sagaline.saga.metrics import OUTBOX_PENDING, OUTBOX_PUBLISHED
from sagaline.saga.store import OutboxEntry, SagaStore

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store: SagaStore,
        producer: AIOKafkaProducer,
        recover_interval: float = 1.0,
        ack_interval: float = 0.05,
    ) -> None:
        self.store = store
        self.producer = producer
        self.recover_interval = recover_interval
        self.ack_interval = ack_interval
        self._to_ack: list[OutboxEntry] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._ack_loop(), name="outbox-ack"),
            asyncio.create_task(self._recover_loop(), name="outbox-recover"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        await self.flush_acks()

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        """Send ``entries`` in order and wait until the broker acknowledged all of them (acks=all)."""
        if not entries:
            return
        futures = [
            await self.producer.send(e.topic, e.value, key=e.key.encode(), headers=list(e.headers))
            for e in entries
        ]
        await asyncio.gather(*futures)
        OUTBOX_PUBLISHED.inc(len(entries))
        self._to_ack.extend(entries)

    async def flush_acks(self) -> None:
        batch, self._to_ack = self._to_ack, []
        await self.store.ack_outbox(batch)

    async def recover_once(self) -> int:
        """Send every entry whose publisher's lease ran out; returns how many were sent."""
        sent = 0
        now = datetime.now(UTC)
        for bucket in self.store.keys.all_buckets():
            entries = await self.store.claim_outbox(bucket, now)
            if entries:
                log.warning("re-sending %d outbox entries of %s", len(entries), bucket.tag)
                await self.publish(entries)
                sent += len(entries)
        return sent

    async def _ack_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ack_interval)
            try:
                await self.flush_acks()
            except Exception:  # Redis blip: entries stay leased and are re-sent after the lease
                log.exception("outbox ack failed")

    async def _recover_loop(self) -> None:
        while True:
            await asyncio.sleep(self.recover_interval)
            try:
                await self.recover_once()
                OUTBOX_PENDING.set(await self.store.outbox_size())
            except Exception:
                log.exception("outbox recovery pass failed")
