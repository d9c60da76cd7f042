"""Saga state, outbox and timers in Redis: every transition is one atomic Lua call.

The store never decides anything: it persists what ``transition`` computed, compare-and-set on the
state's version, so concurrent coordinators can race freely and the loser simply recomputes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from sagaline.saga.keys import BucketKeys, KeySpace
from sagaline.saga.state import SagaState

_LUA = resources.files("sagaline.saga") / "lua"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class OutboxEntry:
    """One message waiting to be published: already signed, with its trace headers."""

    entry_id: str
    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    def to_json(self) -> str:
        return json.dumps(
            {
                "topic": self.topic,
                "key": self.key,
                "value": self.value.decode(),
                "headers": [[k, v.decode()] for k, v in self.headers],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, entry_id: str, raw: str | bytes) -> OutboxEntry:
        body = json.loads(raw)
        return cls(
            entry_id=entry_id,
            topic=body["topic"],
            key=body["key"],
            value=body["value"].encode(),
            headers=tuple((k, v.encode()) for k, v in body["headers"]),
        )


@dataclass(frozen=True)
class Timer:
    saga_id: str
    due_at: datetime
    token: str


@dataclass(frozen=True)
class SagaPage:
    items: list[SagaState]
    total: int


class SagaStore:
    def __init__(self, redis: Redis, keyspace: KeySpace | None = None, lease_seconds: float = 10.0) -> None:
        self.redis = redis
        self.keys = keyspace or KeySpace()
        self.lease_ms = int(lease_seconds * 1000)
        self._commit = redis.register_script((_LUA / "commit.lua").read_text())
        self._claim = redis.register_script((_LUA / "claim.lua").read_text())
        self._release_timer = redis.register_script((_LUA / "release_timer.lua").read_text())

    async def load(self, saga_id: str) -> SagaState | None:
        raw = await self.redis.hget(self.keys.bucket_of(saga_id).saga(saga_id), "state")
        return None if raw is None else SagaState.from_json(raw)

    async def commit(
        self,
        before: SagaState | None,
        after: SagaState,
        outbox: Sequence[OutboxEntry],
        timer: Timer | None,
        now: datetime,
    ) -> bool:
        """Store ``after`` if the stored saga is still ``before``; False when another writer won.

        ``timer`` set: it replaces the saga's timer. None: the timer is cleared when the saga
        waits on nothing, otherwise the one already stored stays.
        """
        bucket = self.keys.bucket_of(after.saga_id)
        expected = 0 if before is None else before.version
        if timer is not None:
            action, due, token = "set", str(_ms(timer.due_at)), timer.token
        elif after.pending is None:
            action, due, token = "clear", "0", ""
        else:
            action, due, token = "keep", "0", ""
        old_status = before.status if before is not None else after.status
        args: list[Any] = [
            after.saga_id,
            expected,
            after.version,
            after.to_json(),
            after.status.value,
            f"{after.workflow}@{after.workflow_version}",
            _ms(after.created_at),
            _ms(now) + self.lease_ms,
            action,
            due,
            token,
            len(outbox),
        ]
        for entry in outbox:
            args += [entry.entry_id, entry.to_json()]
        keys = [
            bucket.saga(after.saga_id),
            bucket.outbox,
            bucket.outbox_leases,
            bucket.timers,
            bucket.timer_tokens,
            bucket.status_index(old_status.value),
            bucket.status_index(after.status.value),
            bucket.all_sagas,
        ]
        ok, _ = await self._commit(keys=keys, args=args)
        return bool(int(ok))

    async def claim_outbox(self, bucket: BucketKeys, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        """Entries whose lease ran out (their publisher died): leased anew to the caller."""
        flat = await self._claim(
            keys=[bucket.outbox_leases, bucket.outbox], args=[_ms(now), _ms(now) + self.lease_ms, limit]
        )
        return [OutboxEntry.from_json(_text(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    async def ack_outbox(self, entries: Sequence[OutboxEntry]) -> None:
        """Forget published entries, many in one round trip."""
        if not entries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                bucket = self._bucket_of_entry(entry)
                pipe.zrem(bucket.outbox_leases, entry.entry_id)
                pipe.hdel(bucket.outbox, entry.entry_id)
            await pipe.execute()

    async def outbox_size(self) -> int:
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket in self.keys.all_buckets():
                pipe.hlen(bucket.outbox)
            sizes = await pipe.execute()
        return int(sum(sizes))

    async def claim_timers(
        self, bucket: BucketKeys, now: datetime, limit: int = 100
    ) -> list[tuple[str, str]]:
        """Due timers of one bucket as (saga_id, token), leased to the caller."""
        flat = await self._claim(
            keys=[bucket.timers, bucket.timer_tokens], args=[_ms(now), _ms(now) + self.lease_ms, limit]
        )
        return [(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def release_timer(self, saga_id: str, token: str) -> None:
        bucket = self.keys.bucket_of(saga_id)
        await self._release_timer(keys=[bucket.timers, bucket.timer_tokens], args=[saga_id, token])

    async def list_sagas(
        self, status: str | None = None, workflow: str | None = None, offset: int = 0, limit: int = 50
    ) -> SagaPage:
        """Sagas newest first, optionally of one status and/or workflow (``name`` or ``name@version``)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket in self.keys.all_buckets():
                index = bucket.status_index(status) if status else bucket.all_sagas
                pipe.zrange(index, 0, -1, withscores=True)
            per_bucket = await pipe.execute()
        ranked = sorted(
            ((score, _text(member)) for rows in per_bucket for member, score in rows), reverse=True
        )
        states = await self.load_many([saga_id for _, saga_id in ranked])
        if workflow:
            states = [s for s in states if workflow in (s.workflow, f"{s.workflow}@{s.workflow_version}")]
        return SagaPage(items=states[offset : offset + limit], total=len(states))

    async def load_many(self, saga_ids: list[str]) -> list[SagaState]:
        raws = await self._field_of_each(saga_ids, "state")
        return [SagaState.from_json(raw) for raw in raws if raw is not None]

    async def statuses(self, saga_ids: Sequence[str]) -> list[str | None]:
        """The status of each saga (None if unknown), all in one round trip and without parsing
        the stored states: cheap enough to poll for many sagas at once."""
        return [None if raw is None else _text(raw) for raw in await self._field_of_each(saga_ids, "status")]

    async def _field_of_each(self, saga_ids: Sequence[str], field: str) -> list[Any]:
        if not saga_ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for saga_id in saga_ids:
                pipe.hget(self.keys.bucket_of(saga_id).saga(saga_id), field)
            return list(await pipe.execute())

    def _bucket_of_entry(self, entry: OutboxEntry) -> BucketKeys:
        return self.keys.bucket_of(entry.key)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
