"""One job base class per template: the hooks to implement are exactly the template's operations."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
from faststream.kafka import TestKafkaBroker
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.job import (
    InventoryJob,
    JobContext,
    JobSettings,
    MemoryIdempotencyStore,
    NotificationJob,
    PaymentGatewayJob,
    ShippingJob,
    TemplateJob,
    create_app,
)
from sagaline.contracts.job.kafka import undecoded
from sagaline.contracts.messages import SuccessReply, sensitive
from sagaline.contracts.template import Template
from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping
from sagaline.contracts.testing import command_envelope

pytestmark = pytest.mark.unit

KEYS = "unit-key:0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("base", "module"),
    [
        (PaymentGatewayJob, payment_gateway),
        (InventoryJob, inventory),
        (ShippingJob, shipping),
        (NotificationJob, notification),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_each_base_class_asks_for_one_hook_per_operation_of_its_template(base, module):
    assert base.template is module.TEMPLATE
    assert base.__abstractmethods__ == set(module.TEMPLATE.operations)


def test_a_derived_job_missing_a_hook_cannot_be_built():
    class HalfJob(PaymentGatewayJob):
        async def charge(self, command, ctx):
            raise NotImplementedError

    settings = JobSettings(job_name="half", provider="half", signing_keys=KEYS)
    with pytest.raises(TypeError, match="refund"):
        HalfJob(settings)


def test_a_template_whose_replies_carry_sensitive_fields_is_refused():
    class LeakyReply(payment_gateway.PaymentCharged):
        message_type = "payment_gateway.LeakyCharged"
        card_token: str = sensitive()

    charge = dataclasses.replace(payment_gateway.TEMPLATE.operations["charge"], success=LeakyReply)
    leaky = dataclasses.replace(
        payment_gateway.TEMPLATE, operations={**payment_gateway.TEMPLATE.operations, "charge": charge}
    )

    with pytest.raises(TypeError, match="sensitive"):

        class LeakyJob(TemplateJob):
            template: ClassVar[Template] = leaky

            async def charge(self, command: Any, ctx: JobContext) -> SuccessReply:
                raise NotImplementedError

            async def refund(self, command: Any, ctx: JobContext) -> SuccessReply:
                raise NotImplementedError


class EchoNotificationJob(NotificationJob):
    async def send(
        self, command: notification.SendNotification, ctx: JobContext
    ) -> notification.NotificationSent:
        return notification.NotificationSent(
            order_id=command.order_id, delivery_id=f"msg-{ctx.idempotency_key}"
        )


async def test_a_job_of_another_template_answers_on_that_templates_events_topic():
    settings = JobSettings(
        job_name="notification_echo_job", provider="echo", signing_keys=KEYS, concurrency=1
    )
    app = create_app(EchoNotificationJob(settings), store=MemoryIdempotencyStore())
    replies: list[bytes] = []

    async def capture(message: Any) -> None:
        replies.append(message.body)

    app.broker.subscriber("notification.v1.events", decoder=undecoded)(capture)
    command = command_envelope(
        notification.TEMPLATE,
        notification.SendNotification(order_id="o1", recipient="ada@example.com", subject="Hi", body="Hello"),
        settings.key_ring(),
    )
    async with TestKafkaBroker(app.broker) as broker:
        await broker.publish(command.to_bytes(), "notification.v1.echo.commands", key=b"k")

    [reply] = [Envelope.from_bytes(body) for body in replies]
    assert reply.message_type == "notification.NotificationSent"
    assert reply.payload == {"order_id": "o1", "delivery_id": f"msg-{command.idempotency_key}"}
    assert reply.contract == "notification@1.0.0"
