"""The Redis store against a real Redis: compare-and-set, outbox leases, timers, listing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from sagaline.saga.keys import KeySpace
from sagaline.saga.state import SagaState, SagaStatus
from sagaline.saga.store import OutboxEntry, SagaStore, Timer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def store(infra):
    client = aioredis.from_url(infra.redis_url)
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    yield SagaStore(client, KeySpace(prefix, buckets=4), lease_seconds=5)
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _state(
    saga_id: str, version: int, status: SagaStatus = SagaStatus.RUNNING, minutes: int = 0
) -> SagaState:
    created = NOW + timedelta(minutes=minutes)
    return SagaState(
        saga_id=saga_id,
        workflow="wf",
        workflow_version="1.0.0",
        status=status,
        version=version,
        created_at=created,
        updated_at=created,
    )


def _entry(saga_id: str, n: int) -> OutboxEntry:
    return OutboxEntry(
        f"{saga_id}-m{n}", "t.commands", saga_id, b'{"n": %d}' % n, (("traceparent", b"00-x"),)
    )


async def test_commit_is_compare_and_set_on_the_version(store):
    first = _state("s1", 1)
    assert await store.commit(None, first, [], None, NOW)
    assert not await store.commit(None, _state("s1", 1), [], None, NOW), "a second create must lose"
    second = _state("s1", 2, SagaStatus.COMPLETED)
    assert await store.commit(first, second, [], None, NOW)
    assert not await store.commit(first, _state("s1", 2, SagaStatus.COMPENSATING), [], None, NOW)
    assert await store.load("s1") == second


async def test_outbox_entries_are_leased_to_the_committer_then_recoverable(store):
    entries = [_entry("s2", 1), _entry("s2", 2)]
    assert await store.commit(None, _state("s2", 1), entries, None, NOW)
    bucket = store.keys.bucket_of("s2")
    assert await store.claim_outbox(bucket, NOW + timedelta(seconds=1)) == [], "still leased"
    recovered = await store.claim_outbox(bucket, NOW + timedelta(seconds=6))
    assert sorted(recovered, key=lambda e: e.entry_id) == entries
    assert await store.claim_outbox(bucket, NOW + timedelta(seconds=7)) == [], "claimed again = leased again"
    await store.ack_outbox(recovered)
    assert await store.outbox_size() == 0
    assert await store.claim_outbox(bucket, NOW + timedelta(hours=1)) == []


async def test_a_saga_has_one_timer_and_a_stale_release_keeps_the_newer_one(store):
    s1 = _state("s3", 1)
    await store.commit(None, s1, [], Timer("s3", NOW + timedelta(seconds=5), "tok-1"), NOW)
    s2 = _state("s3", 2)
    await store.commit(s1, s2, [], Timer("s3", NOW + timedelta(seconds=9), "tok-2"), NOW)
    bucket = store.keys.bucket_of("s3")
    assert await store.claim_timers(bucket, NOW + timedelta(seconds=6)) == []
    assert await store.claim_timers(bucket, NOW + timedelta(seconds=10)) == [("s3", "tok-2")]
    assert await store.claim_timers(bucket, NOW + timedelta(seconds=11)) == [], "leased to the first claimer"
    await store.release_timer("s3", "tok-1")
    assert await store.claim_timers(bucket, NOW + timedelta(seconds=30)) == [("s3", "tok-2")]
    await store.release_timer("s3", "tok-2")
    assert await store.claim_timers(bucket, NOW + timedelta(hours=1)) == []


async def test_list_filters_by_status_newest_first_with_paging(store):
    for i in range(7):
        status = SagaStatus.COMPLETED if i % 2 else SagaStatus.RUNNING
        await store.commit(None, _state(f"l{i}", 1, status, minutes=i), [], None, NOW)
    page = await store.list_sagas(status="running", limit=2)
    assert page.total == 4
    assert [s.saga_id for s in page.items] == ["l6", "l4"]
    rest = await store.list_sagas(status="running", offset=2, limit=10)
    assert [s.saga_id for s in rest.items] == ["l2", "l0"]
    everything = await store.list_sagas(workflow="wf@1.0.0")
    assert everything.total == 7
    assert (await store.list_sagas(workflow="other")).total == 0
