"""payment_gateway's hooks for PayPal: each one hands the command to the provider adapter."""

from __future__ import annotations

from sagaline.contracts.job import JobContext, PaymentGatewayJob
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentRefunded,
    RefundPayment,
)

from payment_gateway_paypal_job.provider import PayPalProvider
from payment_gateway_paypal_job.settings import PayPalSettings


class PayPalJob(PaymentGatewayJob):
    def __init__(self, settings: PayPalSettings) -> None:
        super().__init__(settings)
        self.provider = PayPalProvider(settings)

    async def startup(self) -> None:
        await self.provider.open()

    async def shutdown(self) -> None:
        await self.provider.close()

    async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged:
        return await self.provider.charge(command, ctx.idempotency_key)

    async def refund(self, command: RefundPayment, ctx: JobContext) -> PaymentRefunded:
        return await self.provider.refund(command, ctx.idempotency_key)
