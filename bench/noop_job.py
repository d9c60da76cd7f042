"""A TemplateJob whose provider call does nothing: the framework's own cost, for the benchmark.

``python -m bench.noop_job`` serves the template named by ``SAGALINE_BENCH_TEMPLATE`` (inventory,
payment_gateway, shipping, notification) for ``SAGALINE_PROVIDER``. Everything but the provider
call is the real runtime: signature check, validation, Redis de-duplication, signed replies,
spans, metrics, batched commits. With these in place of the simulator-backed jobs, a saga costs
what Sagaline itself costs, which is what the raw aiokafka baseline is the limit of.
"""

from __future__ import annotations

import os
import uuid

from sagaline.contracts.job import JobContext, run_job
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.job.template_jobs import InventoryJob, NotificationJob, PaymentGatewayJob, ShippingJob
from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping


def _id() -> str:
    return uuid.uuid4().hex[:12]


class NoopInventoryJob(InventoryJob):
    async def reserve(self, command: inventory.ReserveStock, ctx: JobContext) -> inventory.StockReserved:
        return inventory.StockReserved(order_id=command.order_id, reservation_id=_id())

    async def release(self, command: inventory.ReleaseStock, ctx: JobContext) -> inventory.StockReleased:
        return inventory.StockReleased(order_id=command.order_id, released=True)


class NoopPaymentJob(PaymentGatewayJob):
    async def charge(
        self, command: payment_gateway.ChargePayment, ctx: JobContext
    ) -> payment_gateway.PaymentCharged:
        return payment_gateway.PaymentCharged(
            order_id=command.order_id,
            charge_id=_id(),
            amount_cents=command.amount_cents,
            currency=command.currency,
        )

    async def refund(
        self, command: payment_gateway.RefundPayment, ctx: JobContext
    ) -> payment_gateway.PaymentRefunded:
        return payment_gateway.PaymentRefunded(
            order_id=command.order_id, refund_id=_id(), amount_cents=command.amount_cents
        )


class NoopShippingJob(ShippingJob):
    async def create(self, command: shipping.CreateShipment, ctx: JobContext) -> shipping.ShipmentCreated:
        return shipping.ShipmentCreated(order_id=command.order_id, shipment_id=_id(), tracking_number=_id())

    async def cancel(self, command: shipping.CancelShipment, ctx: JobContext) -> shipping.ShipmentCancelled:
        return shipping.ShipmentCancelled(order_id=command.order_id, cancelled=True)


class NoopNotificationJob(NotificationJob):
    async def send(
        self, command: notification.SendNotification, ctx: JobContext
    ) -> notification.NotificationSent:
        return notification.NotificationSent(order_id=command.order_id, delivery_id=_id())


JOBS: dict[str, type[TemplateJob]] = {
    "inventory": NoopInventoryJob,
    "payment_gateway": NoopPaymentJob,
    "shipping": NoopShippingJob,
    "notification": NoopNotificationJob,
}


def main() -> None:
    template = os.environ.get("SAGALINE_BENCH_TEMPLATE", "")
    if template not in JOBS:
        raise SystemExit(f"SAGALINE_BENCH_TEMPLATE must be one of {sorted(JOBS)}, not {template!r}")
    run_job(JOBS[template], JobSettings)


if __name__ == "__main__":
    main()
