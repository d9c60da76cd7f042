"""payment_gateway_paypal_job: the payment_gateway template implemented on PayPal (simulated)."""

from payment_gateway_paypal_job.app import create_job_app
from payment_gateway_paypal_job.job import PayPalJob
from payment_gateway_paypal_job.settings import PayPalSettings

__all__ = ["PayPalJob", "PayPalSettings", "create_job_app"]
