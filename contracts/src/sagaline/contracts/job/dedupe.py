"""Idempotency store: at most one provider call per command, and its outcome replayed to duplicates.

One key per (job, command type, idempotency key) holds either a *lease* (``L:<token>``, with a TTL:
someone is calling the provider right now) or the *outcome* (``O:<json>``, kept for the dedupe
TTL). Claiming is one atomic step, so two concurrent duplicates never both get the lease; the loser
waits for the outcome instead. A lease that outlives a crashed owner expires and can be claimed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from redis.asyncio import Redis

_LEASE = "L:"
_OUTCOME = "O:"


class OutcomeKind(StrEnum):
    SUCCESS = "success"
    DECLINED = "declined"
    RETRYABLE_FAILURE = "retryable_failure"


@dataclass(frozen=True)
class StoredOutcome:
    """The reply a command produced, without the envelope fields that depend on who asked."""

    kind: OutcomeKind
    message_type: str
    payload: dict[str, Any]
    occurred_at: datetime

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind.value,
                "message_type": self.message_type,
                "payload": self.payload,
                "occurred_at": self.occurred_at.isoformat(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str) -> StoredOutcome:
        data = json.loads(raw)
        return cls(
            kind=OutcomeKind(data["kind"]),
            message_type=data["message_type"],
            payload=data["payload"],
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
        )


@dataclass(frozen=True)
class Acquired:
    """This caller holds the lease and must call the provider, then ``complete`` or ``release``."""

    token: str


@dataclass(frozen=True)
class Completed:
    """The command was already handled: replay ``outcome``."""

    outcome: StoredOutcome


@dataclass(frozen=True)
class Busy:
    """Another caller holds the lease for about ``retry_after`` more seconds."""

    retry_after: float


Claim = Acquired | Completed | Busy


class IdempotencyStore(Protocol):
    async def acquire(self, key: str, token: str, lease_seconds: float) -> Claim: ...

    async def complete(self, key: str, outcome: StoredOutcome, ttl_seconds: int) -> StoredOutcome:
        """Store ``outcome`` and return the outcome that now stands (an earlier one wins)."""
        ...

    async def release(self, key: str, token: str) -> None:
        """Drop the lease if ``token`` still holds it, so a later delivery may try again."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


# Returns {1} acquired, {2, pttl_ms} busy, {3, outcome} completed.
_ACQUIRE = """
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1}
end
if string.sub(v, 1, 2) == 'L:' then
  return {2, redis.call('PTTL', KEYS[1])}
end
return {3, v}
"""

# An outcome already stored (by a duplicate whose lease outlived ours) wins, so every reply to
# one command carries the same result; otherwise ours is stored, whoever holds the lease now.
_COMPLETE = """
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 2) == 'O:' then
  return v
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisIdempotencyStore:
    """The production store: one Lua call (one round trip) per step, each bounded by ``timeout``."""

    def __init__(self, client: Redis, timeout: float = 5.0) -> None:
        self._client = client
        self._timeout = timeout
        self._acquire = client.register_script(_ACQUIRE)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, timeout: float = 5.0) -> RedisIdempotencyStore:
        # No socket timeout in redis-py: it wraps every send and read in asyncio.wait_for, a new
        # task each time. One asyncio.timeout per call bounds the same wait for less; redis-py
        # drops a connection whose command was cancelled, so no late reply is misread.
        return cls(Redis.from_url(url, socket_timeout=None, socket_connect_timeout=timeout), timeout)

    async def acquire(self, key: str, token: str, lease_seconds: float) -> Claim:
        async with asyncio.timeout(self._timeout):
            result = await self._acquire(keys=[key], args=[_LEASE + token, max(1, int(lease_seconds * 1000))])
        code = int(result[0])
        if code == 1:
            return Acquired(token)
        if code == 2:
            return Busy(max(int(result[1]), 0) / 1000)
        return Completed(StoredOutcome.from_json(_text(result[1])[len(_OUTCOME) :]))

    async def complete(self, key: str, outcome: StoredOutcome, ttl_seconds: int) -> StoredOutcome:
        value = _OUTCOME + outcome.to_json()
        async with asyncio.timeout(self._timeout):
            stored = _text(await self._complete(keys=[key], args=[value, ttl_seconds]))
        return outcome if stored == value else StoredOutcome.from_json(stored[len(_OUTCOME) :])

    async def release(self, key: str, token: str) -> None:
        async with asyncio.timeout(self._timeout):
            await self._release(keys=[key], args=[_LEASE + token])

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                return bool(await self._client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.aclose()


class MemoryIdempotencyStore:
    """Same semantics in process memory, for unit tests and the in-memory test broker."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    def _get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        return value

    async def acquire(self, key: str, token: str, lease_seconds: float) -> Claim:
        async with self._lock:
            value = self._get(key)
            if value is None:
                self._entries[key] = (_LEASE + token, time.monotonic() + lease_seconds)
                return Acquired(token)
            if value.startswith(_LEASE):
                return Busy(max(self._entries[key][1] - time.monotonic(), 0.0))
            return Completed(StoredOutcome.from_json(value[len(_OUTCOME) :]))

    async def complete(self, key: str, outcome: StoredOutcome, ttl_seconds: int) -> StoredOutcome:
        async with self._lock:
            value = self._get(key)
            if value is not None and value.startswith(_OUTCOME):
                return StoredOutcome.from_json(value[len(_OUTCOME) :])
            self._entries[key] = (_OUTCOME + outcome.to_json(), time.monotonic() + ttl_seconds)
            return outcome

    async def release(self, key: str, token: str) -> None:
        async with self._lock:
            if self._get(key) == _LEASE + token:
                del self._entries[key]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()
