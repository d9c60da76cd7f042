"""The outage switch, the call log and the carrier's books against the real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sagaline.contracts.testing import delete_keys
from sagaline.simulators import CallLog, OutageSwitch, Shipment, ShipmentBook, outage_key

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def prefix(infra) -> AsyncIterator[str]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    await delete_keys(infra.redis_url, prefix)


@pytest_asyncio.fixture(loop_scope="session")
async def redis(infra) -> AsyncIterator[Redis]:
    client = Redis.from_url(infra.redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_an_outage_is_one_expiring_key_per_provider_that_anyone_can_set(redis, prefix):
    switch = OutageSwitch(redis, prefix, "stripe")
    assert not await switch.active()
    await switch.start(5)
    assert switch.key == outage_key(prefix, "stripe") == f"{prefix}sim:stripe:outage_until"
    assert await switch.active()
    assert 4 < await switch.remaining() <= 5
    assert not await OutageSwitch(redis, prefix, "paypal").active()
    await switch.end()
    assert (await switch.active(), await switch.remaining()) == (False, 0)


async def test_an_outage_ends_by_itself(redis, prefix):
    switch = OutageSwitch(redis, prefix, "fedex")
    await switch.start(0.05)
    deadline = time.monotonic() + 2.0
    while await switch.active():
        assert time.monotonic() < deadline, "the outage did not end"
        await asyncio.sleep(0.01)


async def test_an_outage_must_last_some_time(redis, prefix):
    with pytest.raises(ValueError, match="positive"):
        await OutageSwitch(redis, prefix, "fedex").start(0)


async def test_the_call_log_counts_calls_per_operation_and_key(redis, prefix):
    log = CallLog(redis, prefix, "email")
    for operation, key in [("send", "k1"), ("send", "k1"), ("send", "k:2")]:
        await log.record(operation, key)
    assert await log.count("send", "k1") == 2
    assert await log.all() == {("send", "k1"): 2, ("send", "k:2"): 1}
    assert 0 < await redis.ttl(f"{prefix}sim:email:calls:send:k1") <= 7 * 24 * 3600


async def test_an_order_has_one_live_shipment_until_it_is_cancelled(redis, prefix):
    book = ShipmentBook(redis, prefix, "fedex")
    first = await book.book(Shipment("111", "ord-1", "FEDEX_GROUND"))
    again = await book.book(Shipment("222", "ord-1", "FEDEX_GROUND"))
    assert again == first
    assert await book.live("ord-1") == first
    assert await book.cancel("111") is True
    assert await book.cancel("111") is False
    assert await book.cancel("999") is False
    assert await book.live("ord-1") is None
    rebooked = await book.book(Shipment("333", "ord-1", "FEDEX_GROUND"))
    assert rebooked.tracking_number == "333"
    assert sorted((s.tracking_number, s.cancelled) for s in await book.all()) == [
        ("111", True),
        ("333", False),
    ]
