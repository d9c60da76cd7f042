"""The outage switch: one Redis key per provider that tests, the demo and operators flip at run time."""

from __future__ import annotations

import time

from redis.asyncio import Redis


def outage_key(redis_prefix: str, provider: str) -> str:
    return f"{redis_prefix}sim:{provider}:outage_until"


class OutageSwitch:
    """While the key exists, the provider answers every request with its "unavailable" error.

    The value is the end of the outage (epoch milliseconds, for people reading Redis); the key
    expires then, so Redis, not the clocks of the job processes, decides when the outage ends.
    """

    def __init__(self, redis: Redis, redis_prefix: str, provider: str) -> None:
        self._redis = redis
        self.key = outage_key(redis_prefix, provider)

    async def start(self, seconds: float) -> None:
        """Make the provider unavailable for ``seconds`` from now (replaces any running outage)."""
        if seconds <= 0:
            raise ValueError("an outage lasts a positive number of seconds")
        millis = max(1, round(seconds * 1000))
        await self._redis.set(self.key, int(time.time() * 1000) + millis, px=millis)

    async def end(self) -> None:
        await self._redis.delete(self.key)

    async def active(self) -> bool:
        return bool(await self._redis.exists(self.key))

    async def remaining(self) -> float:
        """Seconds until the outage ends; 0 when there is none."""
        millis = int(await self._redis.pttl(self.key))
        return max(millis, 0) / 1000
