"""The raw baseline: the same Kafka hops as a 4-step saga, with no saga state and no checks.

A driver sends a command to echo job 1, waits for its reply, then job 2, ... job 4: eight Kafka
hops per "saga", exactly as the coordinator does, through four plain aiokafka processes
(``raw_echo_job.py``). What this reaches is the limit Kafka on this machine allows.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

HERE = Path(__file__).resolve().parent
STEPS = 4


class RawBaseline:
    def __init__(self, bootstrap: str, partitions: int = 4) -> None:
        self.bootstrap = bootstrap
        self.partitions = partitions
        run = uuid.uuid4().hex[:8]
        self.commands = [f"bench.raw.{run}.step{i}.commands" for i in range(STEPS)]
        self.replies = f"bench.raw.{run}.replies"
        self.procs: list[asyncio.subprocess.Process] = []
        self.pending: dict[bytes, asyncio.Future[None]] = {}

    async def __aenter__(self) -> RawBaseline:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(t, self.partitions, 1) for t in [*self.commands, self.replies]]
            )
        finally:
            await admin.close()
        for i, topic in enumerate(self.commands):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(HERE / "raw_echo_job.py"),
                self.bootstrap,
                topic,
                self.replies,
                f"{topic}.g",
                stdout=asyncio.subprocess.PIPE,
            )
            self.procs.append(proc)
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if line.strip() != b"ready":
                raise RuntimeError(f"raw echo job {i} did not start")
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all", linger_ms=1
        )
        self.consumer = AIOKafkaConsumer(
            self.replies,
            bootstrap_servers=self.bootstrap,
            group_id=f"{self.replies}.driver",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await self.producer.start()
        await self.consumer.start()
        self._reader = asyncio.create_task(self._read_replies())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.consumer.stop()
        await self.producer.stop()
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            await asyncio.wait_for(proc.wait(), 20)

    async def _read_replies(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=50)
            for records in batch.values():
                for record in records:
                    future = self.pending.pop(record.value, None)
                    if future is not None and not future.done():
                        future.set_result(None)
            if batch:
                await self.consumer.commit()

    async def one_saga(self) -> float:
        """Run one 4-step round trip; returns its latency in seconds."""
        saga_id = uuid.uuid4().hex
        started = time.perf_counter()
        for step, topic in enumerate(self.commands):
            value = f"{saga_id}:{step}".encode()
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.pending[value] = future
            await self.producer.send(topic, value, key=saga_id.encode())
            await asyncio.wait_for(future, 60)
        return time.perf_counter() - started
