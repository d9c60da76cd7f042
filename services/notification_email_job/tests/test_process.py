"""The email job as its own process (``python -m notification_email_job``, as in its Dockerfile)."""

from __future__ import annotations

import uuid

import pytest
from notification_email_job import EmailSettings
from notification_email_job.provider import ORDER_HEADER
from redis.asyncio import Redis
from sagaline.contracts.templates.notification import TEMPLATE, NotificationSent, SendNotification
from sagaline.contracts.testing import command_envelope, delete_keys, kit_settings
from sagaline.simulators import CallLog
from sagaline.simulators.testing import MaildirReader, free_port, restart_mid_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

COMMANDS = 24


async def test_when_the_job_is_stopped_with_sigterm_mid_stream_every_order_gets_exactly_one_email(
    infra, tmp_path
):
    settings = kit_settings(
        EmailSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["send"],
        http_host="127.0.0.1",
        http_port=free_port(),
        smtp_host=infra.smtp_host,
        smtp_port=infra.smtp_port,
        sim_latency_seconds=0.05,
    )
    keys = settings.key_ring()
    run = uuid.uuid4().hex[:8]
    orders = [f"ord-{run}-{i}" for i in range(COMMANDS)]
    commands = [
        command_envelope(
            TEMPLATE,
            SendNotification(
                order_id=order_id,
                recipient=f"customer{i}@example.com",
                subject=f"Your order {order_id} is confirmed",
                body=f"Order {order_id} is on its way.",
            ),
            keys,
        )
        for i, order_id in enumerate(orders)
    ]
    redis = Redis.from_url(infra.redis_url, decode_responses=True)
    try:
        outcome = await restart_mid_stream(
            "notification_email_job",
            TEMPLATE,
            settings,
            commands,
            log_path=tmp_path / "job.log",
            stop_after=5,
        )
        calls = await CallLog(redis, settings.redis_prefix, settings.provider).all()
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)
        await redis.aclose()

    assert outcome.exit_codes == (0, 0)
    assert 0 < outcome.replies_before_restart < COMMANDS, "SIGTERM did not land mid-stream"
    assert {saga: len(replies) for saga, replies in outcome.replies.items()} == {
        env.saga_id: 1 for env in commands
    }
    assert {r[0].message_type for r in outcome.replies.values()} == {NotificationSent.message_type}
    assert calls == {("send", env.idempotency_key): 1 for env in commands}
    mailbox = MaildirReader(infra.maildir)
    # Every reply was published after its mail was accepted, so all are delivered by now.
    assert {o: len(mailbox.find(ORDER_HEADER, o)) for o in orders} == dict.fromkeys(orders, 1)
