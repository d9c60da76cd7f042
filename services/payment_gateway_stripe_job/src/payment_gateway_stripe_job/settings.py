"""Settings of payment_gateway_stripe_job: the runtime's and the payment simulator's (``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.simulators import PaymentSimulatorSettings


class StripeSettings(PaymentSimulatorSettings):
    job_name: str = "payment_gateway_stripe_job"
    provider: str = "stripe"
