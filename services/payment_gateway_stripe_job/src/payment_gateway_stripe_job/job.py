"""payment_gateway's hooks for Stripe: each one hands the command to the provider adapter."""

from __future__ import annotations

from sagaline.contracts.job import JobContext, PaymentGatewayJob
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentRefunded,
    RefundPayment,
)

from payment_gateway_stripe_job.provider import StripeProvider
from payment_gateway_stripe_job.settings import StripeSettings


class StripeJob(PaymentGatewayJob):
    def __init__(self, settings: StripeSettings) -> None:
        super().__init__(settings)
        self.provider = StripeProvider(settings)

    async def startup(self) -> None:
        await self.provider.open()

    async def shutdown(self) -> None:
        await self.provider.close()

    async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged:
        return await self.provider.charge(command, ctx.idempotency_key)

    async def refund(self, command: RefundPayment, ctx: JobContext) -> PaymentRefunded:
        return await self.provider.refund(command, ctx.idempotency_key)
