"""order_processing_workflow end to end: HTTP start, five job processes, Kafka, Redis, SMTP, Jaeger."""

from __future__ import annotations

import asyncio
import json
import mailbox
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from inventory_reservation_job.provider import StockStore
from prometheus_client.parser import text_string_to_metric_families
from sagaline.simulators.faults import OutageSwitch
from sagaline.simulators.ledger import read_ledger
from sagaline_demo.orders import make_orders
from sagaline_demo.system import COORDINATOR_PORTS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _order(kind: str = "good", **changes: Any) -> dict[str, Any]:
    data = dict(make_orders(1, uuid.uuid4().hex[:8], declined=0, undeliverable=0)[0].data)
    data["items"] = [{"sku": f"sku-e2e-{uuid.uuid4().hex[:6]}", "quantity": 2}]
    if kind == "declined":
        data["card_token"] = "tok_declined"
    if kind == "undeliverable":
        data["postal_code"] = "00000"
    return {**data, **changes}


async def _run(system, data: dict[str, Any], stock: int = 10):
    stock_store = StockStore(system.redis, system.config.redis_prefix, "reservation")
    sku = data["items"][0]["sku"]
    await stock_store.set_stock(sku, stock)
    saga_id = await system.start_saga(data, key=data["order_id"])
    state = await system.wait_final(saga_id, seconds=90)
    return state, await stock_store.stock(sku)


def _events(state) -> list[tuple[str, str]]:
    return [(h.event, h.step) for h in state.history]


async def _books(system):
    return await read_ledger(system.redis, system.config.redis_prefix, ("stripe", "paypal"))


async def test_happy_path_completes_charges_once_and_emails_the_customer(system, infra):
    data = _order()
    state, stock = await _run(system, data)
    assert state.status.value == "completed"
    assert stock == 8
    books = await _books(system)
    assert [c.provider for c in books.charges_for(data["order_id"])] == ["stripe"]
    assert books.net_cents(data["order_id"]) == data["amount_cents"]
    assert state.data["tracking_number"]
    deadline = time.monotonic() + 10
    found = False
    while not found and time.monotonic() < deadline:
        found = any(
            data["order_id"] in str(m["Subject"]) for m in mailbox.Maildir(str(infra.maildir), create=False)
        )
        await asyncio.sleep(0.1)
    assert found, "the confirmation email was not delivered"


async def test_when_the_card_is_declined_stock_is_restored_and_nothing_is_charged(system):
    data = _order("declined")
    state, stock = await _run(system, data)
    assert state.status.value == "compensated"
    assert stock == 10
    books = await _books(system)
    assert books.charges_for(data["order_id"]) == []
    compensations = [step for event, step in _events(state) if event == "command_sent"][2:]
    assert compensations == ["release_inventory"]


async def test_when_stripe_is_down_the_payment_fails_over_to_paypal_and_stripe_is_settled(system):
    failovers_before = _coordinator_metric("sagaline_step_events_total", event="failover")
    settled_before = _coordinator_metric("sagaline_step_events_total", event="settling")
    outage = OutageSwitch(system.redis, system.config.redis_prefix, "stripe")
    await outage.start(5)
    try:
        data = _order()
        state, stock = await _run(system, data)
    finally:
        await outage.end()
    assert state.status.value == "completed"
    events = _events(state)
    assert ("failover", "charge_payment") in events
    # Stripe may have charged before it failed: its refund runs (and succeeds) before completion.
    assert events.index(("settling", "")) < events.index(("completed", ""))
    assert ("compensation_succeeded", "refund_payment") in events
    books = await _books(system)
    assert [c.provider for c in books.charges_for(data["order_id"])] == ["paypal"]
    assert books.net_cents(data["order_id"]) == data["amount_cents"]
    assert stock == 8
    assert _coordinator_metric("sagaline_step_events_total", event="failover") == failovers_before + 1
    assert _coordinator_metric("sagaline_step_events_total", event="settling") == settled_before + 1


async def test_when_every_reply_is_delivered_twice_each_step_moves_once(system):
    data = _order()
    topics = [
        f"{system.config.topic_prefix}{template}.v1.events"
        for template in ("inventory", "payment_gateway", "shipping", "notification")
    ]
    ignored_before = _coordinator_metric("sagaline_ignored_total", incoming="ReplyReceived")
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=system.config.kafka_bootstrap,
        group_id=f"e2e-duplicator-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=system.config.kafka_bootstrap, enable_idempotence=True)
    copied: list[str] = []

    async def duplicate_this_sagas_replies() -> None:
        async for record in consumer:
            if data["order_id"].encode() in record.value:  # a reply about this order
                headers = list(record.headers)
                await producer.send_and_wait(record.topic, record.value, key=record.key, headers=headers)
                copied.append(record.topic)

    await consumer.start()
    await producer.start()
    duplicator = asyncio.create_task(duplicate_this_sagas_replies())
    try:
        state, stock = await _run(system, data)
        deadline = time.monotonic() + 30
        while len(copied) < 4 or _coordinator_metric(
            "sagaline_ignored_total", incoming="ReplyReceived"
        ) < ignored_before + len(copied):
            if duplicator.done():
                duplicator.result()  # raises what stopped it
            assert time.monotonic() < deadline, f"{len(copied)} replies copied, not all seen as duplicates"
            await asyncio.sleep(0.2)
    finally:
        duplicator.cancel()
        await asyncio.gather(duplicator, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
    assert state.status.value == "completed"
    sent = [step for event, step in _events(state) if event == "command_sent"]
    assert sent == ["reserve_inventory", "charge_payment", "create_shipment", "send_confirmation"]
    assert [event for event, _ in _events(state)].count("step_succeeded") == 4
    books = await _books(system)
    assert [c.provider for c in books.charges_for(data["order_id"])] == ["stripe"]
    assert stock == 8


async def test_when_shipping_is_rejected_payment_is_refunded_then_stock_released(system):
    data = _order("undeliverable")
    state, stock = await _run(system, data)
    assert state.status.value == "compensated"
    sent = [step for event, step in _events(state) if event == "command_sent"]
    assert sent == [
        "reserve_inventory",
        "charge_payment",
        "create_shipment",
        "refund_payment",
        "release_inventory",
    ]
    books = await _books(system)
    assert books.problems() == []
    assert len(books.refunds_for(data["order_id"])) == 1
    assert books.net_cents(data["order_id"]) == 0
    assert stock == 10


async def test_when_stripe_recovers_during_the_refunds_retries_the_saga_compensates_by_itself(system):
    # Stripe is down when the order arrives and for a little longer: the charge fails over to
    # PayPal, the shipment is rejected, and the refund that must also go to Stripe (it may have
    # charged) fails until the outage ends. A later attempt of that refund must reach Stripe
    # again rather than be answered with the first attempt's failure.
    outage = OutageSwitch(system.redis, system.config.redis_prefix, "stripe")
    await outage.start(2.5)
    try:
        data = _order("undeliverable")
        state, stock = await _run(system, data)
    finally:
        await outage.end()
    assert state.status.value == "compensated", state.failure_reason
    refunds = [(h.event, h.detail) for h in state.history if h.step == "refund_payment"]
    assert (
        "compensation_failed",
        "payment_gateway.RefundFailed: Stripe answered 503: Stripe is temporarily unavailable.",
    ) in refunds
    assert refunds[-1][0] == "compensation_succeeded"
    assert state.resumes == 0
    books = await _books(system)
    assert books.problems() == []
    assert [c.provider for c in books.charges_for(data["order_id"])] == ["paypal"]
    assert books.net_cents(data["order_id"]) == 0
    assert stock == 10


def _coordinator_metric(name: str, **labels: str) -> float:
    """A sample of the coordinator process's /metrics (0 if it has not been counted yet)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{COORDINATOR_PORTS[0]}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def _trace(jaeger: str, trace_id: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{jaeger}/api/traces/{trace_id}", timeout=5) as response:
            data = json.loads(response.read()).get("data") or []
            return data[0] if data else None
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


async def test_a_compensated_saga_is_one_trace_in_jaeger_with_compensation_spans(system, infra):
    data = _order("undeliverable")
    state, _ = await _run(system, data)
    assert state.trace_parent is not None
    trace_id = state.trace_parent.split("-")[1]
    wanted = {
        "sagaline-coordinator",
        "inventory_reservation_job",
        "payment_gateway_stripe_job",
        "shipping_fedex_job",
    }
    deadline = time.monotonic() + 30
    trace: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        trace = await asyncio.to_thread(_trace, infra.jaeger_query, trace_id)
        # Spans arrive in batches from five processes: wait for the last compensation's.
        if (
            trace
            and {p["serviceName"] for p in trace["processes"].values()} >= wanted
            and any(s["operationName"] == "saga compensated" for s in trace["spans"])
        ):
            break
        await asyncio.sleep(0.5)
    assert trace is not None, f"trace {trace_id} never reached Jaeger"
    services = {p["serviceName"] for p in trace["processes"].values()}
    assert services >= wanted
    spans = {s["spanID"]: s for s in trace["spans"]}
    assert {s["traceID"] for s in spans.values()} == {trace_id}
    roots = [s for s in spans.values() if not any(r["spanID"] in spans for r in s.get("references", []))]
    assert len(roots) == 1, [r["operationName"] for r in roots]
    names = [s["operationName"] for s in spans.values()]
    assert "send refund_payment" in names
    assert "send release_inventory" in names
    assert "saga compensated" in names
    # Each job's handling span is a child of the coordinator's span that sent the command.
    sends = {s["spanID"]: s for s in spans.values() if s["operationName"].startswith("send ")}
    process_of = {pid: p["serviceName"] for pid, p in trace["processes"].items()}
    for span in spans.values():
        if process_of[span["processID"]] != "sagaline-coordinator" and span["operationName"].endswith(
            "commands process"
        ):
            parents = [r["spanID"] for r in span.get("references", [])]
            assert parents, f"{span['operationName']} has no parent"
            assert parents[0] in sends, f"{span['operationName']} is not a child of a send span"
    tags = {span_id: {t["key"]: t["value"] for t in s["tags"]} for span_id, s in spans.items()}
    for span_id in sends:
        assert tags[span_id].keys() >= {"saga_id", "workflow", "step", "attempt", "provider"}
        assert tags[span_id]["saga_id"] == state.saga_id
        assert tags[span_id]["workflow"] == f"{state.workflow}@{state.workflow_version}"

    # Each reply is handled under the span of the job that sent it: the chain of parents of a
    # "handle ReplyReceived" span leads through a job's span back to the coordinator's send.
    def ancestors(span: dict[str, Any]) -> list[dict[str, Any]]:
        chain = []
        while refs := [r["spanID"] for r in span.get("references", []) if r["spanID"] in spans]:
            span = spans[refs[0]]
            chain.append(span)
        return chain

    replies = [s for s in spans.values() if s["operationName"] == "handle ReplyReceived"]
    assert len(replies) == len(sends), "one handled reply per command sent"
    for reply in replies:
        chain = ancestors(reply)
        assert any(process_of[a["processID"]] != "sagaline-coordinator" for a in chain), "no job span above"
        assert any(a["spanID"] in sends for a in chain), "no send span above"
