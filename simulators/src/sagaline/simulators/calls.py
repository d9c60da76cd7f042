"""The provider's request log: how often each operation was called for each idempotency key.

It is what a real provider's dashboard would show, kept in Redis so a test can check calls made by
a job running in another process (no duplicate provider call across a restart).
"""

from __future__ import annotations

from redis.asyncio import Redis


def calls_key(redis_prefix: str, provider: str) -> str:
    return f"{redis_prefix}sim:{provider}:calls"


class CallLog:
    def __init__(self, redis: Redis, redis_prefix: str, provider: str) -> None:
        self._redis = redis
        self.key = calls_key(redis_prefix, provider)

    async def record(self, operation: str, idempotency_key: str) -> None:
        await self._redis.hincrby(self.key, f"{operation}:{idempotency_key}", 1)

    async def count(self, operation: str, idempotency_key: str) -> int:
        value = await self._redis.hget(self.key, f"{operation}:{idempotency_key}")
        return int(value) if value is not None else 0

    async def all(self) -> dict[tuple[str, str], int]:
        """Every (operation, idempotency key) the provider saw, with its number of calls."""
        raw = await self._redis.hgetall(self.key)
        counts: dict[tuple[str, str], int] = {}
        for field, value in raw.items():
            operation, _, idempotency_key = _text(field).partition(":")
            counts[(operation, idempotency_key)] = int(value)
        return counts


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
