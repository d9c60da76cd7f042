"""``python -m payment_gateway_stripe_job``: serve the job until SIGTERM (settings from ``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.contracts.job import run_job

from payment_gateway_stripe_job.job import StripeJob
from payment_gateway_stripe_job.settings import StripeSettings


def main() -> None:
    run_job(StripeJob, StripeSettings)


if __name__ == "__main__":
    main()
