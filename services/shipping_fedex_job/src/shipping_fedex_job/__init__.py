"""shipping_fedex_job: the shipping template implemented on FedEx (simulated)."""

from shipping_fedex_job.app import create_job_app
from shipping_fedex_job.job import FedExJob
from shipping_fedex_job.settings import FedExSettings

__all__ = ["FedExJob", "FedExSettings", "create_job_app"]
