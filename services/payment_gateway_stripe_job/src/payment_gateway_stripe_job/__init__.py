"""payment_gateway_stripe_job: the payment_gateway template implemented on Stripe (simulated)."""

from payment_gateway_stripe_job.app import create_job_app
from payment_gateway_stripe_job.job import StripeJob
from payment_gateway_stripe_job.settings import StripeSettings

__all__ = ["StripeJob", "StripeSettings", "create_job_app"]
