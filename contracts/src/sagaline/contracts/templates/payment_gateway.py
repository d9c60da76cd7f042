"""payment_gateway: charge a card, refund a charge."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sagaline.contracts.messages import Command, FailureReply, SuccessReply, sensitive
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.template import Operation, Template

NAME = "payment_gateway"
VERSION = "1.0.0"

Currency = Literal["USD", "EUR", "GBP"]


class ChargePayment(Command):
    message_type = "payment_gateway.ChargePayment"

    order_id: str = Field(min_length=1, examples=["ord-1001"])
    amount_cents: int = Field(gt=0, description="Amount in minor units.", examples=[2599])
    currency: Currency = "USD"
    card_token: str = sensitive(min_length=1, description="Tokenised card; never logged.")


class PaymentCharged(SuccessReply):
    message_type = "payment_gateway.PaymentCharged"

    order_id: str
    charge_id: str = Field(description="Provider's charge reference.")
    amount_cents: int
    currency: Currency


class PaymentFailed(FailureReply):
    """Generic failure: transient errors outlasted the retry policy (retryable=True)."""

    message_type = "payment_gateway.PaymentFailed"


class PaymentDeclined(FailureReply):
    """Business outcome: the provider refused the charge. Not retryable."""

    message_type = "payment_gateway.PaymentDeclined"

    decline_code: str = Field(default="declined", examples=["card_declined", "insufficient_funds"])


class RefundPayment(Command):
    message_type = "payment_gateway.RefundPayment"

    order_id: str = Field(min_length=1)
    charge_id: str | None = Field(
        default=None, description="Charge to refund; None when the charge may never have happened."
    )
    amount_cents: int = Field(gt=0)
    currency: Currency = "USD"


class PaymentRefunded(SuccessReply):
    message_type = "payment_gateway.PaymentRefunded"

    order_id: str
    refund_id: str | None = Field(description="None when there was nothing to refund.")
    amount_cents: int


class RefundFailed(FailureReply):
    message_type = "payment_gateway.RefundFailed"


TEMPLATE = Template(
    name=NAME,
    version=VERSION,
    description="Charge a payment card and refund that charge.",
    operations={
        "charge": Operation(
            name="charge",
            command=ChargePayment,
            success=PaymentCharged,
            failure=(PaymentFailed, PaymentDeclined),
            compensation="refund",
            retry=RetryPolicy(max_attempts=3, initial_interval=0.1, max_interval=1.0),
            timeout=5.0,
        ),
        "refund": Operation(
            name="refund",
            command=RefundPayment,
            success=PaymentRefunded,
            failure=(RefundFailed,),
            is_compensation=True,
            retry=RetryPolicy(max_attempts=5, initial_interval=0.1, max_interval=2.0),
            timeout=5.0,
        ),
    },
)
