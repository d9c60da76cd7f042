"""inventory: reserve stock for an order, release that reservation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sagaline.contracts.messages import Command, FailureReply, SuccessReply
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.template import Operation, Template

NAME = "inventory"
VERSION = "1.0.0"


class StockLine(BaseModel):
    """One SKU and how many units of it an order needs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: str = Field(min_length=1, examples=["sku-red-mug"])
    quantity: int = Field(gt=0, description="Units to reserve.", examples=[2])


class ReserveStock(Command):
    message_type = "inventory.ReserveStock"

    order_id: str = Field(min_length=1, examples=["ord-1001"])
    items: list[StockLine] = Field(min_length=1, description="Lines to reserve, all or nothing.")


class StockReserved(SuccessReply):
    message_type = "inventory.StockReserved"

    order_id: str
    reservation_id: str = Field(description="The job's reference for this reservation.")


class StockFailed(FailureReply):
    """Generic failure: transient errors outlasted the retry policy (retryable=True)."""

    message_type = "inventory.StockFailed"


class StockUnavailable(FailureReply):
    """Business outcome: not enough units of ``sku``; nothing was reserved. Not retryable."""

    message_type = "inventory.StockUnavailable"

    sku: str = Field(description="First SKU that could not be reserved.", examples=["sku-red-mug"])


class ReleaseStock(Command):
    """Keyed by order, not reservation: it must work when the reserve reply was never seen."""

    message_type = "inventory.ReleaseStock"

    order_id: str = Field(min_length=1, examples=["ord-1001"])


class StockReleased(SuccessReply):
    message_type = "inventory.StockReleased"

    order_id: str
    released: bool = Field(description="False when there was no reservation to release.")


class ReleaseFailed(FailureReply):
    message_type = "inventory.ReleaseFailed"


TEMPLATE = Template(
    name=NAME,
    version=VERSION,
    description="Reserve stock for an order and release that reservation.",
    operations={
        "reserve": Operation(
            name="reserve",
            command=ReserveStock,
            success=StockReserved,
            failure=(StockFailed, StockUnavailable),
            compensation="release",
            retry=RetryPolicy(max_attempts=3, initial_interval=0.1, max_interval=1.0),
            timeout=5.0,
        ),
        "release": Operation(
            name="release",
            command=ReleaseStock,
            success=StockReleased,
            failure=(ReleaseFailed,),
            is_compensation=True,
            retry=RetryPolicy(max_attempts=5, initial_interval=0.1, max_interval=2.0),
            timeout=5.0,
        ),
    },
)
