"""Scripted participants: a success reply for every command of the built-in templates.

Coordinator tests and benchmarks answer commands with these instead of running the job services.
"""

from __future__ import annotations

from collections.abc import Callable

from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.messages import Reply
from sagaline.contracts.signing import KeyRing
from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping


def success_reply(command: Envelope) -> Reply:
    p = command.payload
    replies: dict[str, Callable[[], Reply]] = {
        "inventory.ReserveStock": lambda: inventory.StockReserved(
            order_id=p["order_id"], reservation_id="r-1"
        ),
        "inventory.ReleaseStock": lambda: inventory.StockReleased(order_id=p["order_id"], released=True),
        "payment_gateway.ChargePayment": lambda: payment_gateway.PaymentCharged(
            order_id=p["order_id"], charge_id="ch-1", amount_cents=p["amount_cents"], currency=p["currency"]
        ),
        "payment_gateway.RefundPayment": lambda: payment_gateway.PaymentRefunded(
            order_id=p["order_id"], refund_id="re-1", amount_cents=p["amount_cents"]
        ),
        "shipping.CreateShipment": lambda: shipping.ShipmentCreated(
            order_id=p["order_id"], shipment_id="sh-1", tracking_number="TRK1"
        ),
        "shipping.CancelShipment": lambda: shipping.ShipmentCancelled(order_id=p["order_id"], cancelled=True),
        "notification.SendNotification": lambda: notification.NotificationSent(
            order_id=p["order_id"], delivery_id="d-1"
        ),
    }
    return replies[command.message_type]()


def reply_envelope(command: Envelope, reply: Reply, keyring: KeyRing) -> Envelope:
    """The signed event a job would publish for ``command`` with ``reply``."""
    return keyring.sign(
        Envelope(
            message_type=reply.message_type,
            saga_id=command.saga_id,
            workflow=command.workflow,
            workflow_version=command.workflow_version,
            step=command.step,
            attempt=command.attempt,
            kind=Kind.EVENT,
            contract=command.contract,
            provider=command.provider,
            idempotency_key=command.idempotency_key,
            causation_id=command.message_id,
            payload=reply.model_dump(mode="json"),
        )
    )
