"""The reservation job's own behaviour against the real Kafka and Redis: atomic, never oversold stock."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from inventory_reservation_job import ReservationJob, ReservationSettings
from inventory_reservation_job.provider import OutOfStock, StockStore
from redis.asyncio import Redis
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.templates.inventory import (
    ReleaseStock,
    ReserveStock,
    StockFailed,
    StockLine,
    StockReleased,
    StockReserved,
    StockUnavailable,
)
from sagaline.contracts.testing import JobHarness, delete_keys, kit_settings
from sagaline.simulators import CallLog, OutageSwitch

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def harness(infra) -> AsyncIterator[JobHarness]:
    # Four consumers on four partitions: commands really are handled at the same time.
    settings = kit_settings(
        ReservationSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["reserve", "release"],
        concurrency=4,
        command_partitions=4,
    )
    try:
        async with JobHarness.running(ReservationJob(settings), wait_seconds=15.0) as running:
            yield running
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)


@pytest_asyncio.fixture(loop_scope="session")
async def store(harness, infra) -> AsyncIterator[StockStore]:
    client = Redis.from_url(infra.redis_url, decode_responses=True)
    yield StockStore(client, harness.app.settings.redis_prefix, harness.app.settings.provider)
    await client.aclose()


def sku() -> str:
    return f"sku-{uuid.uuid4().hex[:8]}"


def reserve(order_id: str, *lines: tuple[str, int]) -> ReserveStock:
    return ReserveStock(order_id=order_id, items=[StockLine(sku=s, quantity=q) for s, q in lines])


async def answer(harness: JobHarness, env: Envelope) -> Envelope:
    await harness.send(env)
    [record] = await harness.replies(env.saga_id)
    return Envelope.from_bytes(record.value or b"")


async def test_when_50_orders_race_for_10_units_exactly_10_are_reserved_and_none_oversold(harness, store):
    mug = sku()
    await store.set_stock(mug, 10)
    await harness.wait_assigned()
    commands = [harness.command(reserve(f"ord-{i}-{mug}", (mug, 1))) for i in range(50)]
    await asyncio.gather(*(harness.send(env) for env in commands))
    replies = [
        Envelope.from_bytes(record.value or b"")
        for env in commands
        for record in await harness.replies(env.saga_id, within=30.0)
    ]
    outcomes = Counter(r.message_type for r in replies)
    assert outcomes == {StockReserved.message_type: 10, StockUnavailable.message_type: 40}
    assert await store.stock(mug) == 0
    reserved = [r.payload["order_id"] for r in replies if r.message_type == StockReserved.message_type]
    assert [await store.reservation(o) is not None for o in reserved] == [True] * 10


async def test_concurrent_reservations_straight_on_the_store_never_take_more_than_there_is(
    harness, infra, store
):
    # Independent connections, so Redis really receives the 50 scripts interleaved with each other.
    settings = harness.app.settings
    clients = [Redis.from_url(infra.redis_url) for _ in range(5)]
    stores = [StockStore(c, settings.redis_prefix, settings.provider) for c in clients]
    mug = sku()
    await store.set_stock(mug, 10)

    async def attempt(i: int) -> bool:
        try:
            await stores[i % len(stores)].reserve(f"direct-{i}-{mug}", [(mug, 1)])
        except OutOfStock:
            return False
        return True

    try:
        results = await asyncio.gather(*(attempt(i) for i in range(50)))
    finally:
        for client in clients:
            await client.aclose()
    assert (sum(results), await store.stock(mug)) == (10, 0)


async def test_a_reservation_takes_every_line_or_none(harness, store):
    plenty, short = sku(), sku()
    await store.set_stock(plenty, 5)
    await store.set_stock(short, 1)
    order_id = f"ord-{uuid.uuid4().hex[:8]}"
    reply = await answer(harness, harness.command(reserve(order_id, (plenty, 2), (short, 1), (short, 1))))
    assert reply.message_type == StockUnavailable.message_type
    declined = StockUnavailable.model_validate(reply.payload)
    assert (declined.sku, declined.retryable) == (short, False)
    assert (await store.stock(plenty), await store.stock(short)) == (5, 1)
    assert await store.reservation(order_id) is None


async def test_release_puts_the_stock_back_once_and_releasing_an_unknown_order_succeeds(harness, store):
    mug = sku()
    await store.set_stock(mug, 3)
    order_id = f"ord-{uuid.uuid4().hex[:8]}"
    reserved = await answer(harness, harness.command(reserve(order_id, (mug, 2))))
    assert reserved.message_type == StockReserved.message_type
    assert await store.stock(mug) == 1
    released = []
    for target in (order_id, order_id, f"never-reserved-{uuid.uuid4().hex[:8]}"):
        reply = await answer(harness, harness.command(ReleaseStock(order_id=target)))
        assert reply.message_type == StockReleased.message_type
        released.append(StockReleased.model_validate(reply.payload).released)
    assert released == [True, False, False]
    assert await store.stock(mug) == 3


async def test_a_repeated_reservation_of_an_order_returns_its_reservation_without_taking_more(harness, store):
    mug = sku()
    await store.set_stock(mug, 4)
    order_id = f"ord-{uuid.uuid4().hex[:8]}"
    first, second = [
        StockReserved.model_validate(
            (await answer(harness, harness.command(reserve(order_id, (mug, 3))))).payload
        )
        for _ in range(2)
    ]
    assert second.reservation_id == first.reservation_id
    assert await store.stock(mug) == 1


async def test_during_an_outage_a_reservation_is_retried_then_fails_retryable_and_takes_nothing(
    harness, store, infra
):
    settings = harness.app.settings
    redis = Redis.from_url(infra.redis_url)
    outage = OutageSwitch(redis, settings.redis_prefix, settings.provider)
    mug = sku()
    await store.set_stock(mug, 2)
    env = harness.command(reserve(f"ord-{uuid.uuid4().hex[:8]}", (mug, 1)))
    await outage.start(30)
    try:
        reply = await answer(harness, env)
        calls = await CallLog(redis, settings.redis_prefix, settings.provider).count(
            "reserve", env.idempotency_key
        )
    finally:
        await outage.end()
        await redis.aclose()
    assert reply.message_type == StockFailed.message_type
    assert StockFailed.model_validate(reply.payload).retryable
    assert calls == harness.app.runtime.retry_policy("reserve").max_attempts
    assert await store.stock(mug) == 2


async def test_the_stock_seed_stocks_only_skus_the_store_does_not_know(infra):
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    settings = ReservationSettings(
        redis_url=infra.redis_url,
        redis_prefix=prefix,
        signing_keys="k:0123456789abcdef",
        stock_seed={"known": 50, "new": 7},
    )
    job = ReservationJob(settings)
    try:
        await job.provider.store.set_stock("known", 2)
        await job.startup()
        assert (await job.provider.store.stock("known"), await job.provider.store.stock("new")) == (2, 7)
    finally:
        await job.shutdown()
        await delete_keys(infra.redis_url, prefix)
