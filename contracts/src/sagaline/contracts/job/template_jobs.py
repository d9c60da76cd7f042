"""One job base class per built-in template; a derived job subclasses one and fills in its hooks."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.context import JobContext
from sagaline.contracts.template import Template
from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping


class PaymentGatewayJob(TemplateJob):
    template: ClassVar[Template] = payment_gateway.TEMPLATE

    @abstractmethod
    async def charge(
        self, command: payment_gateway.ChargePayment, ctx: JobContext
    ) -> payment_gateway.PaymentCharged:
        """Charge the card. Declined(PaymentDeclined(...)) when the provider refuses."""

    @abstractmethod
    async def refund(
        self, command: payment_gateway.RefundPayment, ctx: JobContext
    ) -> payment_gateway.PaymentRefunded:
        """Refund the charge; with no charge to refund, succeed with ``refund_id=None``."""


class InventoryJob(TemplateJob):
    template: ClassVar[Template] = inventory.TEMPLATE

    @abstractmethod
    async def reserve(self, command: inventory.ReserveStock, ctx: JobContext) -> inventory.StockReserved:
        """Reserve every line or none. Declined(StockUnavailable(...)) when stock is short."""

    @abstractmethod
    async def release(self, command: inventory.ReleaseStock, ctx: JobContext) -> inventory.StockReleased:
        """Release the order's reservation; with none, succeed with ``released=False``."""


class ShippingJob(TemplateJob):
    template: ClassVar[Template] = shipping.TEMPLATE

    @abstractmethod
    async def create(self, command: shipping.CreateShipment, ctx: JobContext) -> shipping.ShipmentCreated:
        """Book the shipment. Declined(ShipmentRejected(...)) when the carrier refuses."""

    @abstractmethod
    async def cancel(self, command: shipping.CancelShipment, ctx: JobContext) -> shipping.ShipmentCancelled:
        """Cancel the order's shipment; with none, succeed with ``cancelled=False``."""


class NotificationJob(TemplateJob):
    template: ClassVar[Template] = notification.TEMPLATE

    @abstractmethod
    async def send(
        self, command: notification.SendNotification, ctx: JobContext
    ) -> notification.NotificationSent:
        """Deliver the message. Declined(NotificationRejected(...)) when the recipient is refused."""
