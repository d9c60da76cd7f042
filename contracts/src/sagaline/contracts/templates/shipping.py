"""shipping: create a shipment for an order, cancel it."""

from __future__ import annotations

from pydantic import Field
from sagaline.contracts.messages import Command, FailureReply, SuccessReply
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.template import Operation, Template

NAME = "shipping"
VERSION = "1.0.0"


class CreateShipment(Command):
    message_type = "shipping.CreateShipment"

    order_id: str = Field(min_length=1, examples=["ord-1001"])
    recipient_name: str = Field(min_length=1, examples=["Ada Lovelace"])
    address_line: str = Field(min_length=1, examples=["12 St James's Square"])
    city: str = Field(min_length=1, examples=["London"])
    postal_code: str = Field(min_length=1, examples=["SW1Y 4JH"])
    country: str = Field(
        pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code.", examples=["GB"]
    )


class ShipmentCreated(SuccessReply):
    message_type = "shipping.ShipmentCreated"

    order_id: str
    shipment_id: str = Field(description="Carrier's shipment reference.")
    tracking_number: str = Field(examples=["1Z999AA10123456784"])


class ShipmentFailed(FailureReply):
    """Generic failure: transient errors outlasted the retry policy (retryable=True)."""

    message_type = "shipping.ShipmentFailed"


class ShipmentRejected(FailureReply):
    """Business outcome: the carrier refused the shipment (e.g. undeliverable address)."""

    message_type = "shipping.ShipmentRejected"


class CancelShipment(Command):
    """Keyed by order: it must work when the create reply was never seen."""

    message_type = "shipping.CancelShipment"

    order_id: str = Field(min_length=1, examples=["ord-1001"])


class ShipmentCancelled(SuccessReply):
    message_type = "shipping.ShipmentCancelled"

    order_id: str
    cancelled: bool = Field(description="False when there was no shipment to cancel.")


class ShipmentCancellationFailed(FailureReply):
    message_type = "shipping.ShipmentCancellationFailed"


TEMPLATE = Template(
    name=NAME,
    version=VERSION,
    description="Create a shipment with a carrier and cancel it.",
    operations={
        "create": Operation(
            name="create",
            command=CreateShipment,
            success=ShipmentCreated,
            failure=(ShipmentFailed, ShipmentRejected),
            compensation="cancel",
            retry=RetryPolicy(max_attempts=3, initial_interval=0.2, max_interval=2.0),
            timeout=10.0,
        ),
        "cancel": Operation(
            name="cancel",
            command=CancelShipment,
            success=ShipmentCancelled,
            failure=(ShipmentCancellationFailed,),
            is_compensation=True,
            retry=RetryPolicy(max_attempts=5, initial_interval=0.2, max_interval=2.0),
            timeout=10.0,
        ),
    },
)
