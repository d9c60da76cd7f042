"""Concurrent duplicates never both reach the provider; the store's claim semantics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sagaline.contracts.job.dedupe import (
    Acquired,
    Busy,
    Completed,
    MemoryIdempotencyStore,
    OutcomeKind,
    StoredOutcome,
)
from sagaline.contracts.job.dlq import Source
from sagaline.contracts.job.runtime import Disposition
from sagaline.contracts.templates.payment_gateway import ChargePayment
from sagaline.contracts.testing import wait_until

pytestmark = pytest.mark.unit

OUTCOME = StoredOutcome(OutcomeKind.SUCCESS, "payment_gateway.PaymentCharged", {"a": 1}, datetime.now(UTC))


async def test_when_ten_copies_of_a_command_arrive_at_once_the_provider_is_called_once(rig):
    rig.spy.delay("charge", 0.05)
    command = rig.command(ChargePayment(order_id="ord-1", amount_cents=100, card_token="tok"))
    source = Source(rig.app.topics.commands, 0, 0, b"k")

    dispositions = await asyncio.gather(
        *(rig.app.runtime.process(command.to_bytes(), source) for _ in range(10))
    )

    assert sorted(dispositions) == sorted([Disposition.REPLIED] + [Disposition.REPLAYED] * 9)
    assert rig.spy.calls("charge") == 1
    assert len({r.body for r in rig.replies}) == 1
    waits = rig.app.metrics.registry.get_sample_value(
        "sagaline_job_duplicate_waits_total", {"job": "fake_payment_job", "operation": "charge"}
    )
    assert waits == 9


async def test_a_claimed_key_is_busy_for_others_until_its_outcome_is_stored():
    store = MemoryIdempotencyStore()

    assert await store.acquire("k", "a", 10) == Acquired("a")
    busy = await store.acquire("k", "b", 10)
    assert isinstance(busy, Busy)
    assert 9 < busy.retry_after <= 10
    assert await store.complete("k", OUTCOME, 60) == OUTCOME
    assert await store.acquire("k", "c", 10) == Completed(OUTCOME)


async def test_an_outcome_already_stored_wins_over_a_later_one():
    store = MemoryIdempotencyStore()
    later = StoredOutcome(OutcomeKind.DECLINED, "payment_gateway.PaymentDeclined", {}, datetime.now(UTC))

    await store.complete("k", OUTCOME, 60)

    assert await store.complete("k", later, 60) == OUTCOME


async def test_a_lease_expires_so_a_crashed_owner_does_not_block_the_key_forever():
    store = MemoryIdempotencyStore()
    await store.acquire("k", "crashed", 0.01)

    await asyncio.sleep(0.02)

    assert await store.acquire("k", "next", 10) == Acquired("next")


async def test_only_the_lease_holder_can_release_it():
    store = MemoryIdempotencyStore()
    await store.acquire("k", "owner", 10)

    await store.release("k", "someone-else")
    assert isinstance(await store.acquire("k", "x", 10), Busy)

    await store.release("k", "owner")
    assert await store.acquire("k", "x", 10) == Acquired("x")


async def test_when_shutdown_cancels_a_command_mid_call_its_key_is_freed_for_the_next_delivery(rig):
    rig.spy.delay("charge", 30)
    raw = rig.command(ChargePayment(order_id="ord-1", amount_cents=100, card_token="tok")).to_bytes()
    source = Source(rig.app.topics.commands, 0, 0, b"k")
    in_flight = asyncio.create_task(rig.app.runtime.process(raw, source))
    await wait_until(lambda: rig.spy.calls("charge") == 1, 2.0, "the provider call to start")

    in_flight.cancel()
    with pytest.raises(asyncio.CancelledError):
        await in_flight
    rig.spy.delay("charge", 0)
    async with asyncio.timeout(2):  # a lease left behind would block this for ~20 s
        disposition = await rig.app.runtime.process(raw, source)

    assert disposition is Disposition.REPLIED
    assert rig.spy.calls("charge") == 2


FAILED = StoredOutcome(
    OutcomeKind.RETRYABLE_FAILURE, "payment_gateway.PaymentFailed", {"retryable": True}, datetime.now(UTC)
)


async def test_a_retryable_failure_answers_its_own_attempt_but_the_next_attempt_gets_the_key():
    store = MemoryIdempotencyStore()
    await store.acquire("k", "first", 10, attempt=1)
    await store.complete("k", FAILED, 60, attempt=1)

    assert await store.acquire("k", "redelivered", 10, attempt=1) == Completed(FAILED)
    assert await store.acquire("k", "retry", 10, attempt=2) == Acquired("retry")
    assert await store.complete("k", OUTCOME, 60, attempt=2) == OUTCOME
    assert await store.acquire("k", "old", 10, attempt=1) == Completed(OUTCOME)


async def test_a_retryable_failure_of_a_later_attempt_is_not_overwritten_by_an_older_one():
    store = MemoryIdempotencyStore()
    await store.complete("k", FAILED, 60, attempt=3)
    older = StoredOutcome(OutcomeKind.RETRYABLE_FAILURE, FAILED.message_type, {"old": 1}, datetime.now(UTC))

    assert await store.complete("k", older, 60, attempt=2) == FAILED
    assert await store.complete("k", OUTCOME, 60, attempt=2) == OUTCOME
