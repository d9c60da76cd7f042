"""``python -m shipping_fedex_job``: serve the job until SIGTERM (settings from ``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.contracts.job import run_job

from shipping_fedex_job.job import FedExJob
from shipping_fedex_job.settings import FedExSettings


def main() -> None:
    run_job(FedExJob, FedExSettings)


if __name__ == "__main__":
    main()
