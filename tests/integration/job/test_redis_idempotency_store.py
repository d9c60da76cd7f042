"""The Redis idempotency store against the real Redis: atomic claims, leases, first outcome wins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sagaline.contracts.job.dedupe import (
    Acquired,
    Busy,
    Completed,
    OutcomeKind,
    RedisIdempotencyStore,
    StoredOutcome,
)

pytestmark = pytest.mark.integration

OUTCOME = StoredOutcome(
    OutcomeKind.SUCCESS,
    "payment_gateway.PaymentCharged",
    {"order_id": "o", "amount_cents": 1},
    datetime.now(UTC),
)


@pytest.fixture
async def store(infra):
    store = RedisIdempotencyStore.from_url(infra.redis_url)
    yield store
    await store.close()


@pytest.fixture
async def redis(infra):
    client = Redis.from_url(infra.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def key(redis):
    name = f"it:job:idem:{uuid.uuid4().hex}"
    yield name
    await redis.delete(name)


async def test_when_fifty_workers_claim_one_key_at_once_exactly_one_gets_it(store, key):
    claims = await asyncio.gather(*(store.acquire(key, f"w{i}", 10) for i in range(50)))

    assert sum(isinstance(c, Acquired) for c in claims) == 1
    assert sum(isinstance(c, Busy) for c in claims) == 49
    await store.release(key, next(c.token for c in claims if isinstance(c, Acquired)))


async def test_a_stored_outcome_is_replayed_exactly_to_later_claims(store, key):
    assert await store.acquire(key, "owner", 10) == Acquired("owner")

    assert await store.complete(key, OUTCOME, 60) == OUTCOME
    assert await store.acquire(key, "late-duplicate", 10) == Completed(OUTCOME)
    await store.release(key, "owner")  # the owner's lease is gone; the outcome stays
    assert await store.acquire(key, "later", 10) == Completed(OUTCOME)


async def test_the_first_outcome_wins_when_a_slow_owner_completes_after_another(store, key):
    other = StoredOutcome(OutcomeKind.DECLINED, "payment_gateway.PaymentDeclined", {}, datetime.now(UTC))
    await store.complete(key, OUTCOME, 60)

    assert await store.complete(key, other, 60) == OUTCOME


async def test_a_lease_of_a_crashed_owner_expires_and_the_key_can_be_claimed(store, key):
    await store.acquire(key, "crashed", 0.2)
    busy = await store.acquire(key, "waiting", 10)
    assert isinstance(busy, Busy)
    assert 0 < busy.retry_after <= 0.2

    await asyncio.sleep(busy.retry_after + 0.05)

    assert await store.acquire(key, "waiting", 10) == Acquired("waiting")
    await store.release(key, "waiting")


async def test_outcomes_expire_with_the_dedupe_ttl(store, redis, key):
    await store.complete(key, OUTCOME, 60)

    ttl = await redis.ttl(key)

    assert 0 < ttl <= 60


async def test_only_the_lease_holder_can_release_it(store, redis, key):
    await store.acquire(key, "owner", 10)

    await store.release(key, "intruder")
    assert isinstance(await store.acquire(key, "x", 10), Busy)
    await store.release(key, "owner")
    assert await redis.exists(key) == 0


FAILED = StoredOutcome(
    OutcomeKind.RETRYABLE_FAILURE, "payment_gateway.PaymentFailed", {"retryable": True}, datetime.now(UTC)
)


async def test_a_retryable_failure_answers_its_own_attempt_but_the_next_attempt_gets_the_key(store, key):
    await store.acquire(key, "first", 10, attempt=1)
    await store.complete(key, FAILED, 60, attempt=1)

    assert await store.acquire(key, "redelivered", 10, attempt=1) == Completed(FAILED)
    assert await store.acquire(key, "retry", 10, attempt=2) == Acquired("retry")
    assert isinstance(await store.acquire(key, "duplicate-retry", 10, attempt=2), Busy)
    assert await store.complete(key, OUTCOME, 60, attempt=2) == OUTCOME
    assert await store.acquire(key, "old", 10, attempt=1) == Completed(OUTCOME)


async def test_a_retryable_failure_of_a_later_attempt_is_not_overwritten_by_an_older_one(store, key):
    await store.complete(key, FAILED, 60, attempt=3)
    older = StoredOutcome(OutcomeKind.RETRYABLE_FAILURE, FAILED.message_type, {"old": 1}, datetime.now(UTC))

    assert await store.complete(key, older, 60, attempt=2) == FAILED
    assert await store.complete(key, OUTCOME, 60, attempt=2) == OUTCOME
