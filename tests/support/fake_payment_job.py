"""A tiny derived job used by the runtime's and the conformance kit's own tests.

It implements ``payment_gateway`` against an in-memory fake provider: cards whose token is in
``fake_decline_tokens`` are declined, refunds of unknown orders succeed with nothing to refund.
When ``fake_ledger_key`` is set, every provider call is also counted in Redis (a hash of
idempotency key -> calls), so a test can check calls made by a separate process.

Run it as a process: ``python tests/support/fake_payment_job.py`` (settings from SAGALINE_*).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sagaline.contracts.job import (
    Declined,
    JobContext,
    JobSettings,
    PaymentGatewayJob,
    run_job,
)
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentDeclined,
    PaymentRefunded,
    RefundPayment,
)


class FakePaymentSettings(JobSettings):
    job_name: str = "fake_payment_job"
    provider: str = "fakepay"
    fake_decline_tokens: tuple[str, ...] = ("tok_decline",)
    fake_latency_seconds: float = 0.0
    fake_ledger_key: str | None = None


@dataclass
class FakePaymentProvider:
    """Charges by order id; ``calls`` lists (operation, idempotency key) in call order."""

    charges: dict[str, str] = field(default_factory=dict)
    refunds: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def charge(self, order_id: str) -> str:
        charge_id = f"ch_{uuid.uuid4().hex[:12]}"
        self.charges[order_id] = charge_id
        return charge_id

    def refund(self, order_id: str) -> str | None:
        if order_id not in self.charges:
            return None
        return self.refunds.setdefault(order_id, f"re_{uuid.uuid4().hex[:12]}")


class FakePaymentJob(PaymentGatewayJob):
    settings: FakePaymentSettings

    def __init__(self, settings: FakePaymentSettings, provider: FakePaymentProvider | None = None) -> None:
        super().__init__(settings)
        self.provider = provider or FakePaymentProvider()
        self._ledger: Redis | None = None

    async def startup(self) -> None:
        if self.settings.fake_ledger_key:
            self._ledger = Redis.from_url(self.settings.redis_url.get_secret_value())

    async def shutdown(self) -> None:
        if self._ledger is not None:
            await self._ledger.aclose()

    async def _record(self, operation: str, ctx: JobContext) -> None:
        self.provider.calls.append((operation, ctx.idempotency_key))
        if self.settings.fake_latency_seconds:
            await asyncio.sleep(self.settings.fake_latency_seconds)
        if self._ledger is not None and self.settings.fake_ledger_key:
            await self._ledger.hincrby(self.settings.fake_ledger_key, f"{operation}:{ctx.idempotency_key}", 1)

    async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged:
        await self._record("charge", ctx)
        if command.card_token in self.settings.fake_decline_tokens:
            raise Declined(PaymentDeclined(reason="card declined", decline_code="card_declined"))
        return PaymentCharged(
            order_id=command.order_id,
            charge_id=self.provider.charge(command.order_id),
            amount_cents=command.amount_cents,
            currency=command.currency,
        )

    async def refund(self, command: RefundPayment, ctx: JobContext) -> PaymentRefunded:
        await self._record("refund", ctx)
        return PaymentRefunded(
            order_id=command.order_id,
            refund_id=self.provider.refund(command.order_id),
            amount_cents=command.amount_cents,
        )


def main() -> None:
    run_job(FakePaymentJob, FakePaymentSettings)


if __name__ == "__main__":
    main()
