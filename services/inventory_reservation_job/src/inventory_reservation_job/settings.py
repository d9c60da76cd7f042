"""Settings of inventory_reservation_job: the runtime's, the fault switches', the stock seed."""

from __future__ import annotations

from pydantic import Field
from sagaline.simulators import SimulatorSettings


class ReservationSettings(SimulatorSettings):
    job_name: str = "inventory_reservation_job"
    provider: str = "reservation"
    stock_seed: dict[str, int] = Field(
        default_factory=dict,
        description="Units to stock at start for SKUs the store does not know yet "
        '(JSON, e.g. {"sku-red-mug": 100}).',
    )
