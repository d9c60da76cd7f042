"""The reservation job as its own process (``python -m inventory_reservation_job``, as in its Dockerfile)."""

from __future__ import annotations

import uuid

import pytest
from inventory_reservation_job import ReservationSettings
from inventory_reservation_job.provider import StockStore
from redis.asyncio import Redis
from sagaline.contracts.templates.inventory import TEMPLATE, ReserveStock, StockLine, StockReserved
from sagaline.contracts.testing import command_envelope, delete_keys, kit_settings
from sagaline.simulators import CallLog
from sagaline.simulators.testing import free_port, restart_mid_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

COMMANDS = 30
STOCK = 1000


async def test_when_the_job_is_stopped_with_sigterm_mid_stream_every_order_is_reserved_exactly_once(
    infra, tmp_path
):
    mug = f"sku-{uuid.uuid4().hex[:8]}"
    settings = kit_settings(
        ReservationSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["reserve", "release"],
        http_host="127.0.0.1",
        http_port=free_port(),
        sim_latency_seconds=0.05,
        stock_seed={mug: STOCK},
    )
    keys = settings.key_ring()
    commands = [
        command_envelope(
            TEMPLATE,
            ReserveStock(order_id=f"ord-{i}-{mug}", items=[StockLine(sku=mug, quantity=1 + i % 3)]),
            keys,
        )
        for i in range(COMMANDS)
    ]
    redis = Redis.from_url(infra.redis_url, decode_responses=True)
    store = StockStore(redis, settings.redis_prefix, settings.provider)
    try:
        outcome = await restart_mid_stream(
            "inventory_reservation_job",
            TEMPLATE,
            settings,
            commands,
            log_path=tmp_path / "job.log",
            stop_after=5,
        )
        calls = await CallLog(redis, settings.redis_prefix, settings.provider).all()
        left = await store.stock(mug)
        reservations = [await store.reservation(env.payload["order_id"]) for env in commands]
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)
        await redis.aclose()

    assert outcome.exit_codes == (0, 0)
    assert 0 < outcome.replies_before_restart < COMMANDS, "SIGTERM did not land mid-stream"
    assert {saga: len(replies) for saga, replies in outcome.replies.items()} == {
        env.saga_id: 1 for env in commands
    }
    assert {r[0].message_type for r in outcome.replies.values()} == {StockReserved.message_type}
    assert calls == {("reserve", env.idempotency_key): 1 for env in commands}
    assert None not in reservations
    assert left == STOCK - sum(1 + i % 3 for i in range(COMMANDS))
