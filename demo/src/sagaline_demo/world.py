"""The simulated world the demo runs in: stock on the shelves and a payment-provider outage."""

from __future__ import annotations

from inventory_reservation_job.provider import StockStore
from sagaline.simulators.faults import OutageSwitch

from sagaline_demo.orders import SKUS
from sagaline_demo.system import System

UNITS_PER_SKU = 100_000


async def prepare_world(system: System) -> None:
    stock = StockStore(system.redis, system.config.redis_prefix, "reservation")
    for sku in SKUS:
        await stock.set_stock(sku, UNITS_PER_SKU)


async def start_outage(system: System, provider: str, seconds: float) -> None:
    await OutageSwitch(system.redis, system.config.redis_prefix, provider).start(seconds)
