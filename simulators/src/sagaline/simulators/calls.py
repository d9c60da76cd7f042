"""The provider's request log: how often each operation was called for each idempotency key.

It is what a real provider's dashboard would show, kept in Redis so a test can check calls made by
a job running in another process (no duplicate provider call across a restart). One counter per
(operation, key), expiring after the window in which duplicates matter, so a long-running job does
not grow Redis without bound.
"""

from __future__ import annotations

from redis.asyncio import Redis

DEFAULT_TTL_SECONDS = 7 * 24 * 3600


def calls_prefix(redis_prefix: str, provider: str) -> str:
    return f"{redis_prefix}sim:{provider}:calls:"


class CallLog:
    def __init__(
        self, redis: Redis, redis_prefix: str, provider: str, *, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        self._redis = redis
        self.prefix = calls_prefix(redis_prefix, provider)
        self._ttl = ttl_seconds

    async def record(self, operation: str, idempotency_key: str) -> None:
        key = f"{self.prefix}{operation}:{idempotency_key}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def count(self, operation: str, idempotency_key: str) -> int:
        value = await self._redis.get(f"{self.prefix}{operation}:{idempotency_key}")
        return int(value) if value is not None else 0

    async def all(self) -> dict[tuple[str, str], int]:
        """Every (operation, idempotency key) the provider saw, with its number of calls.

        Scans the keyspace: meant for tests and the demo, not for a job's hot path.
        """
        keys = [
            _text(k) async for k in self._redis.scan_iter(match=f"{_glob_escape(self.prefix)}*", count=500)
        ]
        values = await self._redis.mget(keys) if keys else []
        counts: dict[tuple[str, str], int] = {}
        for key, value in zip(keys, values, strict=True):
            if value is not None:
                operation, _, idempotency_key = key[len(self.prefix) :].partition(":")
                counts[(operation, idempotency_key)] = int(value)
        return counts


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
