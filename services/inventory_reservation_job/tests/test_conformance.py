"""The inventory conformance kit, run against the reservation job."""

from __future__ import annotations

from typing import Any

from inventory_reservation_job import ReservationJob, ReservationSettings
from sagaline.contracts.messages import Command
from sagaline.contracts.templates.inventory import ReleaseStock, ReserveStock, StockLine
from sagaline.contracts.testing import JobConformance

IN_STOCK = "kit-sku-in-stock"


class TestReservationJobConformance(JobConformance):
    job_class = ReservationJob
    settings_class = ReservationSettings

    def settings_overrides(self) -> dict[str, Any]:
        return {"stock_seed": {IN_STOCK: 1_000_000}}

    async def make_command(self, operation: str, unique: str) -> Command:
        if operation == "reserve":
            return ReserveStock(order_id=unique, items=[StockLine(sku=IN_STOCK, quantity=1)])
        return ReleaseStock(order_id=unique)

    async def declining_command(self, operation: str, unique: str) -> Command | None:
        if operation == "reserve":
            return ReserveStock(order_id=unique, items=[StockLine(sku="kit-sku-never-stocked", quantity=1)])
        return None
