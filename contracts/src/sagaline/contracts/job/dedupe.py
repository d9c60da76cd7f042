"""Idempotency store: at most one provider call per command, and its outcome replayed to duplicates.

One key per (job, command type, idempotency key) holds either a *lease* (``L:<token>``, with a TTL:
someone is calling the provider right now) or the *outcome*, kept for the dedupe TTL: a final one
(``O:<json>``: success or decline) or a retryable failure of attempt n (``F:<n>:<json>``).
Claiming is one atomic step, so two concurrent duplicates never both get the lease; the loser
waits for the outcome instead. A lease that outlives a crashed owner expires and can be claimed.

A final outcome answers every later command with the key. A retryable failure answers only
redeliveries of its own attempt (or older ones): the coordinator's next attempt of the step is a
new try, so it claims the key and calls the provider again. Replaying the failure to it would turn
every retry of a step into a copy of the first failure, however long ago the provider recovered.
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
_RETRYABLE = "F:"


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
    async def acquire(self, key: str, token: str, lease_seconds: float, attempt: int = 1) -> Claim:
        """Claim ``key`` for ``attempt`` of a command: a lease, the outcome to replay, or Busy."""
        ...

    async def complete(
        self, key: str, outcome: StoredOutcome, ttl_seconds: int, attempt: int = 1
    ) -> StoredOutcome:
        """Store ``outcome`` of ``attempt`` and return the outcome that now stands: a final outcome
        stored earlier wins, and so does a retryable failure of a later attempt."""
        ...

    async def release(self, key: str, token: str) -> None:
        """Drop the lease if ``token`` still holds it, so a later delivery may try again."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


# ARGV: lease value, lease ms, attempt. Returns {1} acquired, {2, pttl_ms} busy, {3, outcome} completed.
_ACQUIRE = """
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 2) == 'L:' then
  return {2, redis.call('PTTL', KEYS[1])}
end
if v and string.sub(v, 1, 2) == 'F:' and tonumber(string.match(v, '^F:(%d+):')) < tonumber(ARGV[3]) then
  v = false
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1}
end
return {3, v}
"""

# A final outcome already stored (by a duplicate whose lease outlived ours) wins, so every reply to
# one command carries the same result, and a retryable failure of a later attempt beats ours;
# otherwise ours is stored, whoever holds the lease now. ARGV: value, ttl seconds, attempt.
_COMPLETE = """
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 2) == 'O:' then
  return v
end
if v and string.sub(v, 1, 2) == 'F:' and string.sub(ARGV[1], 1, 2) == 'F:'
    and tonumber(string.match(v, '^F:(%d+):')) > tonumber(ARGV[3]) then
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


def _encode(outcome: StoredOutcome, attempt: int) -> str:
    if outcome.kind is OutcomeKind.RETRYABLE_FAILURE:
        return f"{_RETRYABLE}{attempt}:{outcome.to_json()}"
    return _OUTCOME + outcome.to_json()


def _decode(value: str) -> StoredOutcome:
    if value.startswith(_RETRYABLE):
        return StoredOutcome.from_json(value.split(":", 2)[2])
    return StoredOutcome.from_json(value[len(_OUTCOME) :])


def _retried_attempt(value: str) -> int | None:
    """The attempt a stored retryable failure answered; None for a lease or a final outcome."""
    return int(value.split(":", 2)[1]) if value.startswith(_RETRYABLE) else None


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

    async def acquire(self, key: str, token: str, lease_seconds: float, attempt: int = 1) -> Claim:
        lease_ms = max(1, int(lease_seconds * 1000))
        async with asyncio.timeout(self._timeout):
            result = await self._acquire(keys=[key], args=[_LEASE + token, lease_ms, attempt])
        code = int(result[0])
        if code == 1:
            return Acquired(token)
        if code == 2:
            return Busy(max(int(result[1]), 0) / 1000)
        return Completed(_decode(_text(result[1])))

    async def complete(
        self, key: str, outcome: StoredOutcome, ttl_seconds: int, attempt: int = 1
    ) -> StoredOutcome:
        value = _encode(outcome, attempt)
        async with asyncio.timeout(self._timeout):
            stored = _text(await self._complete(keys=[key], args=[value, ttl_seconds, attempt]))
        return outcome if stored == value else _decode(stored)

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

    async def acquire(self, key: str, token: str, lease_seconds: float, attempt: int = 1) -> Claim:
        async with self._lock:
            value = self._get(key)
            if value is not None and value.startswith(_LEASE):
                return Busy(max(self._entries[key][1] - time.monotonic(), 0.0))
            retried = None if value is None else _retried_attempt(value)
            if value is None or (retried is not None and retried < attempt):
                self._entries[key] = (_LEASE + token, time.monotonic() + lease_seconds)
                return Acquired(token)
            return Completed(_decode(value))

    async def complete(
        self, key: str, outcome: StoredOutcome, ttl_seconds: int, attempt: int = 1
    ) -> StoredOutcome:
        async with self._lock:
            value = self._get(key)
            if value is not None and value.startswith(_OUTCOME):
                return _decode(value)
            ours = _encode(outcome, attempt)
            if value is not None and ours.startswith(_RETRYABLE):
                retried = _retried_attempt(value)
                if retried is not None and retried > attempt:
                    return _decode(value)
            self._entries[key] = (ours, time.monotonic() + ttl_seconds)
            return outcome

    async def release(self, key: str, token: str) -> None:
        async with self._lock:
            if self._get(key) == _LEASE + token:
                del self._entries[key]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()
