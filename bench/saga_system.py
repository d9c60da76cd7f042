"""The saga side of the benchmark: the real coordinator and jobs as processes, started over HTTP."""

from __future__ import annotations

import time
import uuid

from sagaline_demo.orders import iter_orders
from sagaline_demo.system import System, SystemConfig
from sagaline_demo.world import prepare_world


class SagaBench:
    def __init__(self) -> None:
        self.system = System(SystemConfig(), poll_seconds=0.005)
        self._orders = iter_orders(self.system.config.run_id, declined=0, undeliverable=0)

    async def __aenter__(self) -> SagaBench:
        await self.system.start()
        await prepare_world(self.system)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.system.stop()

    async def one_saga(self) -> float:
        order = next(self._orders)
        started = time.perf_counter()
        saga_id = await self.system.start_saga(order.data, key=uuid.uuid4().hex)
        state = await self.system.wait_final(saga_id)
        if state.status.value != "completed":
            raise RuntimeError(f"saga {saga_id} ended {state.status.value}")
        return time.perf_counter() - started
