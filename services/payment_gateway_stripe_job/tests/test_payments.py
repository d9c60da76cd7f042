"""The Stripe job's own behaviour: declines, outages, the ledger, and the job as its own process."""

from __future__ import annotations

from payment_gateway_stripe_job import StripeJob, StripeSettings
from sagaline.simulators.testing import PaymentJobSuite


class TestStripePayments(PaymentJobSuite):
    job_class = StripeJob
    settings_class = StripeSettings
    module = "payment_gateway_stripe_job"
