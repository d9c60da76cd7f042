"""Two coordinators share 200 concurrent sagas; one is SIGKILLed mid-run and restarted.

Correctness comes from the atomic transitions, the outbox and leased timers, not from any process
surviving: every saga must still reach a final state and the books must balance.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sagaline.simulators.ledger import read_ledger
from sagaline_demo.orders import make_orders
from sagaline_demo.system import System
from sagaline_demo.world import prepare_world

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

SAGAS = 200


async def test_sigkill_of_a_coordinator_during_200_sagas_loses_nothing(system_config):
    system = System(system_config, coordinators=2)
    await system.start()
    try:
        await prepare_world(system)
        orders = make_orders(SAGAS, system.config.run_id, declined=0.1, undeliverable=0.15)
        gate = asyncio.Semaphore(50)

        async def start(order):
            async with gate:
                return await system.start_saga(order.data, key=order.order_id)

        saga_ids = await asyncio.gather(*(start(o) for o in orders))

        # Kill the second coordinator while sagas are in flight, then bring it back.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = await system.states(saga_ids)
            if sum(s.status.terminal for s in states) >= SAGAS // 10:
                break
            await asyncio.sleep(0.05)
        in_flight = sum(not s.status.terminal for s in await system.states(saga_ids))
        assert in_flight > 0, "the kill must land while sagas are still running"
        await asyncio.to_thread(system.processes.kill, "coordinator-1")
        await asyncio.sleep(0.3)
        await asyncio.to_thread(system.processes.restart, "coordinator-1")

        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            states = await system.states(saga_ids)
            if len(states) == SAGAS and all(s.status.terminal or s.status.value == "failed" for s in states):
                break
            await asyncio.sleep(0.2)
        states = await system.states(saga_ids)
        by_status: dict[str, int] = {}
        for s in states:
            by_status[s.status.value] = by_status.get(s.status.value, 0) + 1
        assert by_status.get("completed", 0) + by_status.get("compensated", 0) == SAGAS, by_status

        books = (
            await read_ledger(system.redis, system.config.redis_prefix, ("stripe", "paypal"))
        ).for_orders([o.order_id for o in orders])
        assert books.problems() == []
        amount = {o.order_id: o.data["amount_cents"] for o in orders}
        for state in states:
            order_id = state.data["order_id"]
            expected = amount[order_id] if state.status.value == "completed" else 0
            assert books.net_cents(order_id) == expected, f"{order_id} {state.status.value}"
        assert await system.store.outbox_size() == 0
    finally:
        await system.stop()
