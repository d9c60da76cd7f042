"""The email job's own behaviour over real SMTP: delivery to the sink's Maildir, rejections, failures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from notification_email_job import EmailJob, EmailSettings
from notification_email_job.provider import ORDER_HEADER, EmailProvider
from redis.asyncio import Redis
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.job import Declined, TransientError
from sagaline.contracts.templates.notification import (
    NotificationFailed,
    NotificationRejected,
    NotificationSent,
    SendNotification,
)
from sagaline.contracts.testing import JobHarness, delete_keys, kit_settings
from sagaline.simulators import CallLog, OutageSwitch
from sagaline.simulators.testing import MaildirReader, free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def harness(infra) -> AsyncIterator[JobHarness]:
    settings = kit_settings(
        EmailSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["send"],
        smtp_host=infra.smtp_host,
        smtp_port=infra.smtp_port,
        email_blocked_domains=("invalid", "blocked.example"),
    )
    try:
        async with JobHarness.running(EmailJob(settings), wait_seconds=15.0) as running:
            yield running
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)


@pytest.fixture(scope="module")
def mailbox(infra) -> MaildirReader:
    return MaildirReader(infra.maildir)


def notification(order_id: str, recipient: str = "ada@example.com") -> SendNotification:
    return SendNotification(
        order_id=order_id,
        recipient=recipient,
        subject=f"Your order {order_id} is confirmed",
        body=f"Thank you, Ada. Order {order_id} ships with tracking number 123456789012.",
    )


def order() -> str:
    return f"ord-{uuid.uuid4().hex[:10]}"


async def answer(harness: JobHarness, env: Envelope) -> Envelope:
    await harness.send(env)
    [record] = await harness.replies(env.saga_id)
    return Envelope.from_bytes(record.value or b"")


async def test_a_notification_is_delivered_over_smtp_with_the_order_id(harness, mailbox):
    order_id = order()
    reply = await answer(harness, harness.command(notification(order_id)))
    assert reply.message_type == NotificationSent.message_type
    sent = NotificationSent.model_validate(reply.payload)
    [mail] = await mailbox.wait_for(ORDER_HEADER, order_id)
    assert (mail["To"], mail["Subject"], mail["Message-ID"]) == (
        "ada@example.com",
        f"Your order {order_id} is confirmed",
        sent.delivery_id,
    )
    assert order_id in mail.get_content()


@pytest.mark.parametrize(
    "recipient", ["nobody@mailbox.invalid", "ada@blocked.example", "ada@eu.blocked.example"]
)
async def test_a_recipient_at_a_blocked_domain_is_rejected_without_sending(harness, mailbox, recipient):
    order_id = order()
    reply = await answer(harness, harness.command(notification(order_id, recipient)))
    assert reply.message_type == NotificationRejected.message_type
    rejected = NotificationRejected.model_validate(reply.payload)
    assert not rejected.retryable
    assert "@" not in rejected.reason, "the reason must not carry the address"
    assert mailbox.find(ORDER_HEADER, order_id) == []


async def test_during_an_outage_the_send_is_retried_then_fails_retryable_and_sends_nothing(
    harness, mailbox, infra
):
    settings = harness.app.settings
    redis = Redis.from_url(infra.redis_url)
    outage = OutageSwitch(redis, settings.redis_prefix, settings.provider)
    order_id = order()
    env = harness.command(notification(order_id))
    await outage.start(30)
    try:
        reply = await answer(harness, env)
        calls = await CallLog(redis, settings.redis_prefix, settings.provider).count(
            "send", env.idempotency_key
        )
    finally:
        await outage.end()
        await redis.aclose()
    assert reply.message_type == NotificationFailed.message_type
    assert NotificationFailed.model_validate(reply.payload).retryable
    assert calls == harness.app.runtime.retry_policy("send").max_attempts
    assert mailbox.find(ORDER_HEADER, order_id) == []


# -- how SMTP answers map to outcomes, against servers that misbehave on purpose ----------------


class RefusingHandler:
    """Refuses ``gone@`` permanently (550) and ``busy@`` for now (450); takes everything else."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy@"):
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 OK"


@pytest.fixture(scope="module")
def refusing_server() -> Iterator[tuple[int, RefusingHandler]]:
    handler = RefusingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, handler
    controller.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def provider_at(infra) -> AsyncIterator[Any]:
    opened: list[tuple[EmailProvider, str]] = []

    async def open_for(port: int) -> EmailProvider:
        prefix = f"test:{uuid.uuid4().hex[:12]}:"
        settings = EmailSettings(
            redis_url=infra.redis_url,
            redis_prefix=prefix,
            signing_keys="k:0123456789abcdef",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_timeout_seconds=2.0,
        )
        provider = EmailProvider(settings)
        await provider.open()
        opened.append((provider, prefix))
        return provider

    yield open_for
    for provider, prefix in opened:
        await provider.close()
        await delete_keys(infra.redis_url, prefix)


async def test_a_recipient_the_server_refuses_for_good_is_rejected(refusing_server, provider_at):
    port, handler = refusing_server
    provider = await provider_at(port)
    with pytest.raises(Declined) as declined:
        await provider.send(notification(order(), "gone@example.com"), f"idem-{uuid.uuid4()}")
    assert isinstance(declined.value.reply, NotificationRejected)
    assert "550" in declined.value.reply.reason
    assert handler.received == []


async def test_a_recipient_the_server_defers_is_a_transient_error(refusing_server, provider_at):
    port, _ = refusing_server
    provider = await provider_at(port)
    with pytest.raises(TransientError, match="450"):
        await provider.send(notification(order(), "busy@example.com"), f"idem-{uuid.uuid4()}")


async def test_an_unreachable_mail_relay_is_a_transient_error(provider_at):
    provider = await provider_at(free_port())
    with pytest.raises(TransientError, match="unreachable"):
        await provider.send(notification(order()), f"idem-{uuid.uuid4()}")


async def test_a_send_repeated_with_the_same_key_carries_the_same_message_id(refusing_server, provider_at):
    port, handler = refusing_server
    provider = await provider_at(port)
    key, command = f"idem-{uuid.uuid4()}", notification(order())
    first = await provider.send(command, key)
    again = await provider.send(command, key)
    assert first.delivery_id == again.delivery_id
    assert sum(first.delivery_id.encode() in raw for raw in handler.received) == 2
