"""``python -m payment_gateway_paypal_job``: serve the job until SIGTERM (settings from ``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.contracts.job import run_job

from payment_gateway_paypal_job.job import PayPalJob
from payment_gateway_paypal_job.settings import PayPalSettings


def main() -> None:
    run_job(PayPalJob, PayPalSettings)


if __name__ == "__main__":
    main()
