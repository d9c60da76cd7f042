"""The Stripe job as its own process (``python -m payment_gateway_stripe_job``, as in its Dockerfile)."""

from __future__ import annotations

import uuid

import pytest
from payment_gateway_stripe_job import StripeSettings
from redis.asyncio import Redis
from sagaline.contracts.templates.payment_gateway import TEMPLATE, ChargePayment, PaymentCharged
from sagaline.contracts.testing import command_envelope, delete_keys, kit_settings
from sagaline.simulators import CallLog, PaymentLedger
from sagaline.simulators.testing import free_port, restart_mid_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

COMMANDS = 30


async def test_when_the_job_is_stopped_with_sigterm_mid_stream_every_order_is_charged_exactly_once(
    infra, tmp_path
):
    settings = kit_settings(
        StripeSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["charge", "refund"],
        http_host="127.0.0.1",
        http_port=free_port(),
        sim_latency_seconds=0.02,
    )
    keys = settings.key_ring()
    run = uuid.uuid4().hex[:8]
    commands = [
        command_envelope(
            TEMPLATE,
            ChargePayment(order_id=f"ord-{run}-{i}", amount_cents=1000 + i, card_token="tok_visa"),
            keys,
        )
        for i in range(COMMANDS)
    ]
    redis = Redis.from_url(infra.redis_url, decode_responses=True)
    try:
        outcome = await restart_mid_stream(
            "payment_gateway_stripe_job",
            TEMPLATE,
            settings,
            commands,
            log_path=tmp_path / "job.log",
            stop_after=5,
        )
        calls = await CallLog(redis, settings.redis_prefix, settings.provider).all()
        snapshot = await PaymentLedger(redis, settings.redis_prefix, settings.provider).snapshot()
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)
        await redis.aclose()

    assert outcome.exit_codes == (0, 0)
    assert 0 < outcome.replies_before_restart < COMMANDS, "SIGTERM did not land mid-stream"
    assert {saga: len(replies) for saga, replies in outcome.replies.items()} == {
        env.saga_id: 1 for env in commands
    }
    assert {r[0].message_type for r in outcome.replies.values()} == {PaymentCharged.message_type}
    assert calls == {("charge", env.idempotency_key): 1 for env in commands}
    assert snapshot.problems() == []
    assert sorted(c.order_id for c in snapshot.charges) == sorted(env.payload["order_id"] for env in commands)
