"""shipping's hooks for FedEx: each one hands the command to the provider adapter."""

from __future__ import annotations

from sagaline.contracts.job import JobContext, ShippingJob
from sagaline.contracts.templates.shipping import (
    CancelShipment,
    CreateShipment,
    ShipmentCancelled,
    ShipmentCreated,
)

from shipping_fedex_job.provider import FedExProvider
from shipping_fedex_job.settings import FedExSettings


class FedExJob(ShippingJob):
    def __init__(self, settings: FedExSettings) -> None:
        super().__init__(settings)
        self.provider = FedExProvider(settings)

    async def startup(self) -> None:
        await self.provider.open()

    async def shutdown(self) -> None:
        await self.provider.close()

    async def create(self, command: CreateShipment, ctx: JobContext) -> ShipmentCreated:
        return await self.provider.create(command, ctx.idempotency_key)

    async def cancel(self, command: CancelShipment, ctx: JobContext) -> ShipmentCancelled:
        return await self.provider.cancel(command, ctx.idempotency_key)
