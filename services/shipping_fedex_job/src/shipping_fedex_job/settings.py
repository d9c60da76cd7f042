"""Settings of shipping_fedex_job: the runtime's and the carrier simulator's (``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.simulators import CarrierSimulatorSettings


class FedExSettings(CarrierSimulatorSettings):
    job_name: str = "shipping_fedex_job"
    provider: str = "fedex"
