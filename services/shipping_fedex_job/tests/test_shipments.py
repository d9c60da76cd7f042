"""The FedEx job's own behaviour on the real Kafka and Redis: rejections, cancel after create, outages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.templates.shipping import (
    CancelShipment,
    CreateShipment,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentFailed,
    ShipmentRejected,
)
from sagaline.contracts.testing import JobHarness, delete_keys, kit_settings
from sagaline.simulators import CallLog, OutageSwitch, ShipmentBook
from shipping_fedex_job import FedExJob, FedExSettings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def harness(infra) -> AsyncIterator[JobHarness]:
    settings = kit_settings(
        FedExSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["create", "cancel"],
    )
    try:
        async with JobHarness.running(FedExJob(settings), wait_seconds=15.0) as running:
            yield running
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)


@pytest_asyncio.fixture(loop_scope="session")
async def redis(infra) -> AsyncIterator[Redis]:
    client = Redis.from_url(infra.redis_url, decode_responses=True)
    yield client
    await client.aclose()


def book(harness: JobHarness, redis: Redis) -> ShipmentBook:
    return ShipmentBook(redis, harness.app.settings.redis_prefix, harness.app.settings.provider)


def order() -> str:
    return f"ord-{uuid.uuid4().hex[:10]}"


def shipment(order_id: str, *, country: str = "GB", postal_code: str = "SW1Y 4JH") -> CreateShipment:
    return CreateShipment(
        order_id=order_id,
        recipient_name="Ada Lovelace",
        address_line="12 St James's Square",
        city="London",
        postal_code=postal_code,
        country=country,
    )


async def answer(harness: JobHarness, env: Envelope) -> Envelope:
    await harness.send(env)
    [record] = await harness.replies(env.saga_id)
    return Envelope.from_bytes(record.value or b"")


async def cancel(harness: JobHarness, order_id: str) -> bool:
    reply = await answer(harness, harness.command(CancelShipment(order_id=order_id)))
    assert reply.message_type == ShipmentCancelled.message_type
    return ShipmentCancelled.model_validate(reply.payload).cancelled


@pytest.mark.parametrize(
    ("country", "postal_code", "reason"),
    [("AQ", "BIQQ 1ZZ", "country AQ is not served"), ("US", "00000", "postal code 00000 is not deliverable")],
)
async def test_when_the_address_is_undeliverable_the_shipment_is_rejected_and_nothing_is_booked(
    harness, redis, country, postal_code, reason
):
    order_id = order()
    reply = await answer(
        harness, harness.command(shipment(order_id, country=country, postal_code=postal_code))
    )
    assert reply.message_type == ShipmentRejected.message_type
    rejected = ShipmentRejected.model_validate(reply.payload)
    assert (rejected.reason, rejected.retryable) == (reason, False)
    assert await book(harness, redis).live(order_id) is None


async def test_a_created_shipment_is_cancelled_once_and_cancelling_an_unknown_order_succeeds(harness, redis):
    order_id = order()
    created = await answer(harness, harness.command(shipment(order_id)))
    assert created.message_type == ShipmentCreated.message_type
    tracking = ShipmentCreated.model_validate(created.payload).tracking_number
    assert (await book(harness, redis).live(order_id)).tracking_number == tracking
    assert [
        await cancel(harness, order_id),
        await cancel(harness, order_id),
        await cancel(harness, order()),
    ] == [
        True,
        False,
        False,
    ]
    assert (await book(harness, redis).get(tracking)).cancelled


async def test_creating_an_orders_shipment_again_returns_the_live_one_instead_of_shipping_twice(
    harness, redis
):
    order_id = order()
    first, second = [
        ShipmentCreated.model_validate((await answer(harness, harness.command(shipment(order_id)))).payload)
        for _ in range(2)
    ]
    assert second.tracking_number == first.tracking_number
    assert [s.tracking_number for s in await book(harness, redis).all() if s.order_id == order_id] == [
        first.tracking_number
    ]


async def test_during_an_outage_the_shipment_is_retried_then_fails_retryable_and_nothing_is_booked(
    harness, redis
):
    settings = harness.app.settings
    outage = OutageSwitch(redis, settings.redis_prefix, settings.provider)
    order_id = order()
    env = harness.command(shipment(order_id))
    await outage.start(30)
    try:
        reply = await answer(harness, env)
    finally:
        await outage.end()
    assert reply.message_type == ShipmentFailed.message_type
    assert ShipmentFailed.model_validate(reply.payload).retryable
    calls = await CallLog(redis, settings.redis_prefix, settings.provider).count(
        "create", env.idempotency_key
    )
    assert calls == harness.app.runtime.retry_policy("create").max_attempts
    assert await book(harness, redis).live(order_id) is None
