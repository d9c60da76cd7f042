"""The FedEx job as its own process (``python -m shipping_fedex_job``, as in its Dockerfile)."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis
from sagaline.contracts.templates.shipping import TEMPLATE, CreateShipment, ShipmentCreated
from sagaline.contracts.testing import command_envelope, delete_keys, kit_settings
from sagaline.simulators import CallLog, ShipmentBook
from sagaline.simulators.testing import free_port, restart_mid_stream
from shipping_fedex_job import FedExSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

COMMANDS = 30


async def test_when_the_job_is_stopped_with_sigterm_mid_stream_every_order_ships_exactly_once(
    infra, tmp_path
):
    settings = kit_settings(
        FedExSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["create", "cancel"],
        http_host="127.0.0.1",
        http_port=free_port(),
        sim_latency_seconds=0.05,
    )
    keys = settings.key_ring()
    run = uuid.uuid4().hex[:8]
    commands = [
        command_envelope(
            TEMPLATE,
            CreateShipment(
                order_id=f"ord-{run}-{i}",
                recipient_name=f"Customer {i}",
                address_line=f"{i} Main Street",
                city="Toronto",
                postal_code="M5V 2T6",
                country="CA",
            ),
            keys,
        )
        for i in range(COMMANDS)
    ]
    redis = Redis.from_url(infra.redis_url, decode_responses=True)
    try:
        outcome = await restart_mid_stream(
            "shipping_fedex_job", TEMPLATE, settings, commands, log_path=tmp_path / "job.log", stop_after=5
        )
        calls = await CallLog(redis, settings.redis_prefix, settings.provider).all()
        shipments = await ShipmentBook(redis, settings.redis_prefix, settings.provider).all()
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)
        await redis.aclose()

    assert outcome.exit_codes == (0, 0)
    assert 0 < outcome.replies_before_restart < COMMANDS, "SIGTERM did not land mid-stream"
    assert {saga: len(replies) for saga, replies in outcome.replies.items()} == {
        env.saga_id: 1 for env in commands
    }
    assert {r[0].message_type for r in outcome.replies.values()} == {ShipmentCreated.message_type}
    assert calls == {("create", env.idempotency_key): 1 for env in commands}
    assert sorted(s.order_id for s in shipments) == sorted(env.payload["order_id"] for env in commands)
