"""The conformance kit run against the example derived job: the kit works before any real service."""

from __future__ import annotations

from fake_payment_job import FakePaymentJob, FakePaymentSettings
from sagaline.contracts.messages import Command
from sagaline.contracts.templates.payment_gateway import ChargePayment, RefundPayment
from sagaline.contracts.testing import JobConformance


class TestFakePaymentJobConformance(JobConformance):
    job_class = FakePaymentJob
    settings_class = FakePaymentSettings

    async def make_command(self, operation: str, unique: str) -> Command:
        if operation == "charge":
            return ChargePayment(order_id=unique, amount_cents=2599, card_token="tok_visa")
        return RefundPayment(order_id=unique, amount_cents=2599)

    async def declining_command(self, operation: str, unique: str) -> Command | None:
        if operation == "charge":
            return ChargePayment(order_id=unique, amount_cents=2599, card_token="tok_decline")
        return None
