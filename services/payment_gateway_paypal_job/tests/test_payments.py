"""The PayPal job's own behaviour: declines, outages, the ledger, and the job as its own process."""

from __future__ import annotations

from payment_gateway_paypal_job import PayPalJob, PayPalSettings
from sagaline.simulators.testing import PaymentJobSuite


class TestPayPalPayments(PaymentJobSuite):
    job_class = PayPalJob
    settings_class = PayPalSettings
    module = "payment_gateway_paypal_job"
