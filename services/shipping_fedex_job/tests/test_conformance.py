"""The shipping conformance kit, run against the FedEx job."""

from __future__ import annotations

from sagaline.contracts.messages import Command
from sagaline.contracts.templates.shipping import CancelShipment, CreateShipment
from sagaline.contracts.testing import JobConformance
from shipping_fedex_job import FedExJob, FedExSettings


def shipment(order_id: str, postal_code: str = "10001") -> CreateShipment:
    return CreateShipment(
        order_id=order_id,
        recipient_name="Ada Lovelace",
        address_line="350 Fifth Avenue",
        city="New York",
        postal_code=postal_code,
        country="US",
    )


class TestFedExJobConformance(JobConformance):
    job_class = FedExJob
    settings_class = FedExSettings

    async def make_command(self, operation: str, unique: str) -> Command:
        if operation == "create":
            return shipment(unique)
        return CancelShipment(order_id=unique)

    async def declining_command(self, operation: str, unique: str) -> Command | None:
        if operation == "create":
            return shipment(unique, postal_code="00000")
        return None
