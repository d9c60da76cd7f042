"""A compensation that keeps failing parks the saga as ``failed``; an operator resumes it later.

The jobs run as processes; the coordinator runs in this process so the test can give the refund a
short retry policy (the shipped workflow retries compensations for half a minute).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from inventory_reservation_job.provider import StockStore
from prometheus_client import REGISTRY
from sagaline.saga.api import create_api
from sagaline.saga.coordinator import Coordinator
from sagaline.saga.definition import WorkflowDefinition
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.settings import CoordinatorSettings
from sagaline.saga.workflows import order_processing_workflow
from sagaline.simulators.faults import OutageSwitch
from sagaline.simulators.ledger import read_ledger
from sagaline_demo.orders import make_orders
from sagaline_demo.system import System

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _impatient_refunds() -> WorkflowDefinition:
    spec = order_processing_workflow.to_dict()
    for step in spec["steps"]:
        if step.get("compensation"):
            step["compensation"]["retry"] = {"max_attempts": 2, "initial_interval": 0.1, "max_interval": 0.2}
    return WorkflowDefinition.from_dict(spec)


def _count(name: str, event: str) -> float:
    """The in-process coordinator's counter ``name`` for the order workflow and ``event``."""
    labels = {"workflow": "order_processing_workflow", "event": event}
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _until(predicate: Any, seconds: float) -> None:
    import asyncio

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {seconds}s")


async def test_when_refunds_keep_failing_the_saga_fails_and_resume_compensates_it(system_config):
    system = System(system_config, coordinators=0)
    registry = WorkflowRegistry()
    registry.register(_impatient_refunds())
    settings = CoordinatorSettings(
        kafka_bootstrap=system_config.kafka_bootstrap,
        redis_url=system_config.redis_url,
        redis_prefix=system_config.redis_prefix,
        topic_prefix=system_config.topic_prefix,
        signing_keys=system_config.signing_keys,
        api_token="operator-token",
        timer_interval=0.05,
    )
    coordinator = Coordinator(settings, registry)
    stripe_down = OutageSwitch(system.redis, system_config.redis_prefix, "stripe")
    await system.start()
    try:
        await coordinator.start()
        order = make_orders(1, uuid.uuid4().hex[:8], declined=0, undeliverable=1.0)[0].data
        sku = f"sku-resume-{uuid.uuid4().hex[:6]}"
        order["items"] = [{"sku": sku, "quantity": 1}]
        stock = StockStore(system.redis, system_config.redis_prefix, "reservation")
        await stock.set_stock(sku, 5)
        # Stripe is down from the start: the charge fails over to PayPal, and the refund that
        # must also be sent to Stripe (it may have charged) fails every time.
        await stripe_down.start(120)
        saga, _ = await coordinator.engine.start(
            "order_processing_workflow", order, f"resume-{order['order_id']}"
        )

        async def parked() -> bool:
            state = await coordinator.store.load(saga.saga_id)
            return state is not None and state.status.value == "failed"

        counted = {
            ("sagaline_sagas_total", "failed"): _count("sagaline_sagas_total", "failed"),
            ("sagaline_sagas_total", "compensated"): _count("sagaline_sagas_total", "compensated"),
            ("sagaline_step_events_total", "resumed"): _count("sagaline_step_events_total", "resumed"),
            ("sagaline_step_events_total", "compensation_failed"): _count(
                "sagaline_step_events_total", "compensation_failed"
            ),
        }
        await _until(parked, 60)
        failed = await coordinator.store.load(saga.saga_id)
        assert failed is not None
        history = "\n".join(f"{h.event} {h.step} {h.attempt} {h.detail}" for h in failed.history)
        assert "refund_payment on stripe" in (failed.failure_reason or ""), history
        assert await stock.stock(sku) == 4, "release_inventory waits behind the failed refund"

        api = create_api(coordinator, settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api),
            base_url="http://coordinator",
            headers={"Authorization": "Bearer operator-token"},
        ) as client:
            shown = (await client.get(f"/sagas/{saga.saga_id}")).json()
            assert shown["status"] == "failed"
            await stripe_down.end()
            resumed = await client.post(f"/sagas/{saga.saga_id}/resume")
            assert resumed.status_code == 200, resumed.text

        async def compensated() -> bool:
            state = await coordinator.store.load(saga.saga_id)
            return state is not None and state.status.value == "compensated"

        await _until(compensated, 60)
        grew = {key: _count(*key) - before for key, before in counted.items()}
        assert grew[("sagaline_sagas_total", "failed")] == 1
        assert grew[("sagaline_sagas_total", "compensated")] == 1
        assert grew[("sagaline_step_events_total", "resumed")] == 1
        assert grew[("sagaline_step_events_total", "compensation_failed")] >= 2
        assert await stock.stock(sku) == 5
        books = (
            await read_ledger(system.redis, system_config.redis_prefix, ("stripe", "paypal"))
        ).for_orders([order["order_id"]])
        assert books.problems() == []
        assert [c.provider for c in books.charges_for(order["order_id"])] == ["paypal"]
        assert books.net_cents(order["order_id"]) == 0
    finally:
        await stripe_down.end()
        await coordinator.stop()
        await system.stop()
