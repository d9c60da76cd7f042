"""The payment_gateway conformance kit, run against the PayPal job."""

from __future__ import annotations

from payment_gateway_paypal_job import PayPalJob, PayPalSettings
from sagaline.contracts.messages import Command
from sagaline.contracts.templates.payment_gateway import ChargePayment, RefundPayment
from sagaline.contracts.testing import JobConformance


class TestPayPalJobConformance(JobConformance):
    job_class = PayPalJob
    settings_class = PayPalSettings

    async def make_command(self, operation: str, unique: str) -> Command:
        if operation == "charge":
            return ChargePayment(order_id=unique, amount_cents=2599, card_token="tok_visa")
        return RefundPayment(order_id=unique, amount_cents=2599)

    async def declining_command(self, operation: str, unique: str) -> Command | None:
        if operation == "charge":
            return ChargePayment(order_id=unique, amount_cents=2599, card_token="tok_declined")
        return None
