"""The Stripe job's own behaviour against the real Kafka and Redis: declines, outages and the ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from payment_gateway_stripe_job import StripeJob, StripeSettings
from payment_gateway_stripe_job.provider import StripeProvider
from redis.asyncio import Redis
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    RefundFailed,
    RefundPayment,
)
from sagaline.contracts.testing import JobHarness, delete_keys, kit_settings
from sagaline.simulators import CallLog, OutageSwitch, PaymentLedger

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

FUNDS_LIMIT_CENTS = 50_000


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def harness(infra) -> AsyncIterator[JobHarness]:
    settings = kit_settings(
        StripeSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["charge", "refund"],
        sim_insufficient_funds_above_cents=FUNDS_LIMIT_CENTS,
    )
    try:
        async with JobHarness.running(StripeJob(settings), wait_seconds=15.0) as running:
            yield running
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)


@pytest_asyncio.fixture(loop_scope="session")
async def redis(infra) -> AsyncIterator[Redis]:
    client = Redis.from_url(infra.redis_url, decode_responses=True)
    yield client
    await client.aclose()


def ledger(harness: JobHarness, redis: Redis) -> PaymentLedger:
    return PaymentLedger(redis, harness.app.settings.redis_prefix, harness.app.settings.provider)


def order() -> str:
    return f"ord-{uuid.uuid4().hex[:10]}"


async def answer(harness: JobHarness, env: Envelope) -> Envelope:
    await harness.send(env)
    [record] = await harness.replies(env.saga_id)
    assert record.value is not None
    return Envelope.from_bytes(record.value)


async def charge(
    harness: JobHarness, order_id: str, amount_cents: int = 2599, token: str = "tok_visa"
) -> Envelope:
    command = ChargePayment(order_id=order_id, amount_cents=amount_cents, card_token=token)
    return await answer(harness, harness.command(command))


async def test_when_the_card_token_is_declined_the_reply_is_a_card_decline_and_nothing_is_charged(
    harness, redis
):
    order_id = order()
    reply = await charge(harness, order_id, token="tok_declined")
    assert reply.message_type == PaymentDeclined.message_type
    declined = PaymentDeclined.model_validate(reply.payload)
    assert (declined.decline_code, declined.retryable) == ("card_declined", False)
    assert (await ledger(harness, redis).snapshot()).charges_for(order_id) == []


async def test_when_the_amount_is_above_the_funds_limit_the_reply_is_insufficient_funds(harness, redis):
    order_id = order()
    reply = await charge(harness, order_id, amount_cents=FUNDS_LIMIT_CENTS + 1)
    assert reply.message_type == PaymentDeclined.message_type
    assert PaymentDeclined.model_validate(reply.payload).decline_code == "insufficient_funds"
    assert (await ledger(harness, redis).snapshot()).charges_for(order_id) == []
    at_limit = await charge(harness, order(), amount_cents=FUNDS_LIMIT_CENTS)
    assert at_limit.message_type == PaymentCharged.message_type


async def test_during_an_outage_the_charge_is_retried_then_fails_retryable_and_charges_nothing(
    harness, redis
):
    settings = harness.app.settings
    outage = OutageSwitch(redis, settings.redis_prefix, settings.provider)
    attempts = harness.app.runtime.retry_policy("charge").max_attempts
    order_id = order()
    env = harness.command(ChargePayment(order_id=order_id, amount_cents=1500, card_token="tok_visa"))
    await outage.start(30)
    try:
        reply = await answer(harness, env)
    finally:
        await outage.end()
    assert reply.message_type == PaymentFailed.message_type
    assert PaymentFailed.model_validate(reply.payload).retryable
    calls = await CallLog(redis, settings.redis_prefix, settings.provider).count(
        "charge", env.idempotency_key
    )
    assert calls == attempts
    assert (await ledger(harness, redis).snapshot()).charges_for(order_id) == []
    after = await charge(harness, order_id)
    assert after.message_type == PaymentCharged.message_type


async def test_an_outage_in_the_settings_starts_when_the_provider_opens(infra, redis):
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    settings = StripeSettings(
        redis_url=infra.redis_url,
        redis_prefix=prefix,
        signing_keys="k:0123456789abcdef",
        sim_outage_seconds=20,
    )
    provider = StripeProvider(settings)
    try:
        await provider.open()
        remaining = await OutageSwitch(redis, prefix, "stripe").remaining()
        assert 15 < remaining <= 20
    finally:
        await provider.close()
        await delete_keys(infra.redis_url, prefix)


async def test_duplicate_and_retried_commands_never_charge_twice(harness, redis):
    order_id = order()
    env = harness.command(ChargePayment(order_id=order_id, amount_cents=4200, card_token="tok_visa"))
    retry = harness.command(
        ChargePayment(order_id=order_id, amount_cents=4200, card_token="tok_visa"),
        saga_id=env.saga_id,
        idempotency_key=env.idempotency_key,
        attempt=2,
    )
    for message in (env, env, retry):
        await harness.send(message)
    replies = await harness.replies(env.saga_id, 3)
    charge_ids = {
        PaymentCharged.model_validate(Envelope.from_bytes(r.value or b"").payload).charge_id for r in replies
    }
    charges = (await ledger(harness, redis).snapshot()).charges_for(order_id)
    assert [c.charge_id for c in charges] == list(charge_ids)


async def test_a_provider_call_repeated_with_the_same_idempotency_key_returns_the_first_charge(
    harness, redis
):
    # What happens when a job dies after Stripe charged but before the outcome was stored: the
    # redelivered command calls Stripe again with the same key.
    job = harness.app.job
    assert isinstance(job, StripeJob)
    command = ChargePayment(order_id=order(), amount_cents=999, card_token="tok_visa")
    key = f"idem-{uuid.uuid4()}"
    first = await job.provider.charge(command, key)
    again = await job.provider.charge(command, key)
    assert again == first
    charges = (await ledger(harness, redis).snapshot()).charges_for(command.order_id)
    assert [c.charge_id for c in charges] == [first.charge_id]


async def test_every_refund_matches_a_charge_with_or_without_the_charge_id(harness, redis):
    by_id, by_order, never_charged = order(), order(), order()
    charged = PaymentCharged.model_validate((await charge(harness, by_id, amount_cents=1234)).payload)
    await charge(harness, by_order, amount_cents=5678)
    refunds = [
        RefundPayment(order_id=by_id, charge_id=charged.charge_id, amount_cents=1234),
        RefundPayment(order_id=by_order, amount_cents=5678),
        RefundPayment(order_id=never_charged, amount_cents=100),
    ]
    replies = [
        PaymentRefunded.model_validate((await answer(harness, harness.command(r))).payload) for r in refunds
    ]
    assert [r.refund_id is not None for r in replies] == [True, True, False]
    snapshot = await ledger(harness, redis).snapshot()
    assert snapshot.problems() == []
    assert [snapshot.net_cents(o) for o in (by_id, by_order, never_charged)] == [0, 0, 0]
    assert [r.refund_id for r in snapshot.refunds_for(by_order)] == [replies[1].refund_id]
    assert snapshot.refunds_for(never_charged) == []


async def test_a_second_refund_of_a_charge_returns_the_first_refund(harness, redis):
    order_id = order()
    await charge(harness, order_id, amount_cents=3000)
    refund = RefundPayment(order_id=order_id, amount_cents=3000)
    first, second = [
        PaymentRefunded.model_validate((await answer(harness, harness.command(refund))).payload)
        for _ in range(2)
    ]
    assert first.refund_id is not None
    assert second.refund_id == first.refund_id
    assert len((await ledger(harness, redis).snapshot()).refunds_for(order_id)) == 1


async def test_a_refund_larger_than_the_charge_is_declined(harness, redis):
    order_id = order()
    await charge(harness, order_id, amount_cents=1000)
    reply = await answer(harness, harness.command(RefundPayment(order_id=order_id, amount_cents=1001)))
    assert reply.message_type == RefundFailed.message_type
    assert not RefundFailed.model_validate(reply.payload).retryable
    assert (await ledger(harness, redis).snapshot()).refunds_for(order_id) == []
