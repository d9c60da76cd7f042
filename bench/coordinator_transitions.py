"""Coordinator transitions per second and Redis round trips per transition (goal: 1).

Drives the real Engine and SagaStore on the real Redis with every reply answered in-process (no
Kafka: the relay only records what it would publish), so the figures are the coordinator's own.
Round trips are counted on the client: one per command sent alone, one per pipeline or script call.
Usage: uv run python -m bench.coordinator_transitions [--sagas N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.signing import KeyRing
from sagaline.contracts.testing.scripted import reply_envelope, success_reply
from sagaline.saga.engine import Engine
from sagaline.saga.incoming import ReplyReceived
from sagaline.saga.keys import KeySpace
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.store import OutboxEntry, SagaStore
from sagaline.saga.workflows import register_default_workflows

RESULT = Path(__file__).resolve().parent / "results" / "coordinator_transitions.json"
ORDER = {
    "order_id": "o",
    "customer_email": "ada@example.com",
    "items": [{"sku": "sku-1", "quantity": 1}],
    "amount_cents": 1500,
    "card_token": "tok_visa",
    "recipient_name": "Ada",
    "address_line": "1 Main St",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}


class CountingRelay:
    """Stands in for the Kafka relay: keeps what would be sent and acknowledges it in batches."""

    def __init__(self, store: SagaStore) -> None:
        self.store = store
        self.sent: asyncio.Queue[OutboxEntry] = asyncio.Queue()
        self._to_ack: list[OutboxEntry] = []

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        for entry in entries:
            self.sent.put_nowait(entry)
        self._to_ack.extend(entries)
        if len(self._to_ack) >= 100:
            batch, self._to_ack = self._to_ack, []
            await self.store.ack_outbox(batch)


def count_round_trips(client: aioredis.Redis) -> dict[str, int]:
    counts = {"round_trips": 0}
    single = client.execute_command
    batched = Pipeline.execute

    async def execute_command(*args: Any, **options: Any) -> Any:
        counts["round_trips"] += 1
        return await single(*args, **options)

    async def execute(self: Pipeline, raise_on_error: bool = True) -> Any:
        counts["round_trips"] += 1
        return await batched(self, raise_on_error)

    client.execute_command = execute_command  # type: ignore[method-assign]
    Pipeline.execute = execute  # type: ignore[method-assign]
    return counts


async def run(sagas: int, concurrency: int) -> dict[str, Any]:
    client = aioredis.from_url(os.environ.get("SAGALINE_REDIS_URL", "redis://127.0.0.1:6379/0"))
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    store = SagaStore(client, KeySpace(prefix))
    relay = CountingRelay(store)
    keyring = KeyRing.from_spec("bench:bench-signing-key-0123456789")
    registry = WorkflowRegistry()
    register_default_workflows(registry)
    engine = Engine(registry, store, relay, keyring)  # type: ignore[arg-type]
    await client.ping()
    await store.load("warm-up")  # scripts registered, connection open
    counts = count_round_trips(client)

    async def answer(entry: OutboxEntry) -> None:
        command = Envelope.from_bytes(entry.value)
        event = reply_envelope(command, success_reply(command), keyring)
        await engine.apply(ReplyReceived(event))

    async def worker() -> None:
        while True:
            entry = await relay.sent.get()
            try:
                await answer(entry)
            finally:
                relay.sent.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    started = time.perf_counter()
    for i in range(sagas):
        await engine.start("order_processing_workflow", {**ORDER, "order_id": f"o-{i}"}, f"s-{i}")
    await relay.sent.join()
    seconds = time.perf_counter() - started
    for task in workers:
        task.cancel()
    transitions = sagas * 5  # start + four replies
    result = {
        "benchmark": "coordinator transitions (Engine + SagaStore on real Redis, replies in-process)",
        "sagas": sagas,
        "transitions": transitions,
        "seconds": round(seconds, 3),
        "transitions_per_second": round(transitions / seconds, 1),
        "redis_round_trips": counts["round_trips"],
        "redis_round_trips_per_transition": round(counts["round_trips"] / transitions, 3),
        "goal_round_trips_per_transition": 1,
    }
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sagas", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    result = {
        **asyncio.run(run(args.sagas, args.concurrency)),
        "command": " ".join(["python -m bench.coordinator_transitions", *sys.argv[1:]]),
    }
    text = json.dumps(result, indent=2)
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
