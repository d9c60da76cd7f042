"""The timer poller: turns due timers in Redis into ``TimerFired`` transitions.

Claiming a timer leases it (its score moves forward), so two coordinators never fire the same
timer at once; a coordinator that dies mid-way lets the lease run out and another fires it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sagaline.saga._tasks import cancel_and_wait
from sagaline.saga.engine import Engine
from sagaline.saga.incoming import TimerFired

log = logging.getLogger(__name__)


class TimerPoller:
    def __init__(self, engine: Engine, interval: float = 0.1, batch: int = 100) -> None:
        self.engine = engine
        self.interval = interval
        self.batch = batch
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="timer-poller")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def fire_due(self) -> int:
        """Fire every timer due now; returns how many fired."""
        store = self.engine.store
        fired = 0
        now = datetime.now(UTC)
        for bucket in store.keys.all_buckets():
            for saga_id, token in await store.claim_timers(bucket, now, self.batch):
                # The engine's copy may be behind a transition another coordinator stored.
                self.engine.forget(saga_id)
                result = await self.engine.apply(TimerFired(saga_id, token))
                if result.ignored is not None:
                    await store.release_timer(saga_id, token)
                fired += 1
        return fired

    async def _loop(self) -> None:
        while True:
            try:
                if await self.fire_due() == 0:
                    await asyncio.sleep(self.interval)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer pass failed")
                await asyncio.sleep(self.interval)
