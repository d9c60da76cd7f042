"""What every simulated provider shares: its Redis, the outage switch, added latency, the call log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sagaline.contracts.job.errors import TransientError
from sagaline.simulators.calls import CallLog
from sagaline.simulators.faults import OutageSwitch
from sagaline.simulators.settings import SimulatorSettings


class Simulation:
    """Provider state lives in Redis, so it outlives a job process like a remote provider would."""

    def __init__(self, settings: SimulatorSettings, redis: Redis | None = None) -> None:
        self.settings = settings
        self._owns_redis = redis is None
        self.redis: Redis = redis or Redis.from_url(
            settings.redis_url.get_secret_value(), decode_responses=True
        )
        self.outage = OutageSwitch(self.redis, settings.redis_prefix, settings.provider)
        self.calls = CallLog(
            self.redis, settings.redis_prefix, settings.provider, ttl_seconds=settings.dedupe_ttl_seconds
        )

    async def open(self) -> None:
        if self.settings.sim_outage_seconds > 0:
            await self.outage.start(self.settings.sim_outage_seconds)

    async def close(self) -> None:
        if self._owns_redis:
            await self.redis.aclose()

    async def unavailable(self) -> bool:
        """Wait out the added latency; True while an outage is on (answer with the provider's error)."""
        if self.settings.sim_latency_seconds > 0:
            await asyncio.sleep(self.settings.sim_latency_seconds)
        return await self.outage.active()


@contextmanager
def unreachable_is_transient(what: str) -> Iterator[None]:
    """Redis connection failures become ``TransientError``: asking again later may work, and
    anything else would send the command to the DLQ."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise TransientError(f"{what} unreachable ({type(exc).__name__})") from exc
