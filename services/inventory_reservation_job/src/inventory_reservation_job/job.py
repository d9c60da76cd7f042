"""inventory's hooks for the reservation store: each one hands the command to the provider adapter."""

from __future__ import annotations

from sagaline.contracts.job import InventoryJob, JobContext
from sagaline.contracts.templates.inventory import ReleaseStock, ReserveStock, StockReleased, StockReserved

from inventory_reservation_job.provider import ReservationProvider
from inventory_reservation_job.settings import ReservationSettings


class ReservationJob(InventoryJob):
    def __init__(self, settings: ReservationSettings) -> None:
        super().__init__(settings)
        self.provider = ReservationProvider(settings)

    async def startup(self) -> None:
        await self.provider.open()

    async def shutdown(self) -> None:
        await self.provider.close()

    async def reserve(self, command: ReserveStock, ctx: JobContext) -> StockReserved:
        return await self.provider.reserve(command, ctx.idempotency_key)

    async def release(self, command: ReleaseStock, ctx: JobContext) -> StockReleased:
        return await self.provider.release(command, ctx.idempotency_key)
