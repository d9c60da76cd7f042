"""Settings of payment_gateway_paypal_job: the runtime's and the payment simulator's (``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.simulators import PaymentSimulatorSettings


class PayPalSettings(PaymentSimulatorSettings):
    job_name: str = "payment_gateway_paypal_job"
    provider: str = "paypal"
