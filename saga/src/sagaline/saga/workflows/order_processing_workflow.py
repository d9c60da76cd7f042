"""``order_processing_workflow``: reserve stock, charge the card, ship, confirm by email.

If a step fails the saga undoes, in reverse order, what was done: cancel the shipment, refund the
charge, release the stock. A customer is never charged for an order that is not shipped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sagaline.contracts.messages import sensitive
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping
from sagaline.contracts.templates.inventory import StockLine, StockReserved
from sagaline.contracts.templates.notification import EMAIL_PATTERN, NotificationSent
from sagaline.contracts.templates.payment_gateway import Currency, PaymentCharged
from sagaline.contracts.templates.shipping import ShipmentCreated
from sagaline.saga.dsl import workflow


class OrderData(BaseModel):
    """The data an order saga starts with. Steps add ``reservation_id``, ``charge_id``,
    ``shipment_id``, ``tracking_number`` and ``delivery_id`` from their replies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str = Field(min_length=1, examples=["ord-1001"])
    customer_email: str = sensitive(pattern=EMAIL_PATTERN, examples=["ada@example.com"])
    items: list[StockLine] = Field(min_length=1)
    amount_cents: int = Field(gt=0, description="Order total in minor units.", examples=[2599])
    currency: Currency = "USD"
    card_token: str = sensitive(min_length=1, description="Tokenised card; never logged.")
    recipient_name: str = Field(min_length=1, examples=["Ada Lovelace"])
    address_line: str = Field(min_length=1, examples=["12 St James's Square"])
    city: str = Field(min_length=1, examples=["London"])
    postal_code: str = Field(min_length=1, examples=["SW1Y 4JH"])
    country: str = Field(pattern=r"^[A-Z]{2}$", examples=["GB"])


_ORDER = {"order_id": "$.order_id"}

# Undoing must outlast a provider outage: a compensation that gives up parks the saga as failed
# for an operator, so compensations retry for about half a minute before they do.
_PATIENT = RetryPolicy(max_attempts=10, initial_interval=0.5, backoff_coefficient=2.0, max_interval=5.0)

order_processing_workflow = (
    workflow("order_processing_workflow", "1.0.0", "Reserve stock, charge, ship and confirm an order.")
    .step("reserve_inventory")
    .invoke(inventory.TEMPLATE, "reserve", providers=["reservation"], command={**_ORDER, "items": "$.items"})
    .on_reply(StockReserved, {"reservation_id": "$.reservation_id"})
    .with_compensation("release", name="release_inventory", command=_ORDER, retry=_PATIENT)
    .step("charge_payment")
    .invoke(
        payment_gateway.TEMPLATE,
        "charge",
        providers=["stripe", "paypal"],
        command={
            **_ORDER,
            "amount_cents": "$.amount_cents",
            "currency": "$.currency",
            "card_token": "$.card_token",
        },
    )
    .on_reply(PaymentCharged, {"charge_id": "$.charge_id"})
    .with_compensation(
        "refund",
        name="refund_payment",
        command={
            **_ORDER,
            "charge_id": "$.charge_id",
            "amount_cents": "$.amount_cents",
            "currency": "$.currency",
        },
        retry=_PATIENT,
    )
    .step("create_shipment")
    .invoke(
        shipping.TEMPLATE,
        "create",
        providers=["fedex"],
        command={
            **_ORDER,
            "recipient_name": "$.recipient_name",
            "address_line": "$.address_line",
            "city": "$.city",
            "postal_code": "$.postal_code",
            "country": "$.country",
        },
    )
    .on_reply(ShipmentCreated, {"shipment_id": "$.shipment_id", "tracking_number": "$.tracking_number"})
    .with_compensation("cancel", name="cancel_shipment", command=_ORDER, retry=_PATIENT)
    .step("send_confirmation")
    .invoke(
        notification.TEMPLATE,
        "send",
        providers=["email"],
        command={
            **_ORDER,
            "recipient": "$.customer_email",
            "subject": "Your order {$.order_id} is confirmed",
            "body": "Thank you, {$.recipient_name}. Order {$.order_id} ships with tracking number "
            "{$.tracking_number}.",
        },
    )
    .on_reply(NotificationSent, {"delivery_id": "$.delivery_id"})
    .build()
)
