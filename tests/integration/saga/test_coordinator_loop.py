"""The coordinator against real Kafka and Redis, with scripted participants standing in for jobs.

These tests pin the adapter semantics (commit before publish, duplicate replies, outbox recovery)
without the derived-job services; the end-to-end tests with the real services live in tests/e2e.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.messages import Reply
from sagaline.contracts.registry import message_class
from sagaline.contracts.signing import KeyRing
from sagaline.contracts.templates import payment_gateway
from sagaline.contracts.testing import wait_until
from sagaline.contracts.testing.scripted import reply_envelope, success_reply
from sagaline.saga.coordinator import Coordinator
from sagaline.saga.definition import WorkflowDefinition
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.settings import CoordinatorSettings
from sagaline.saga.state import SagaStatus
from sagaline.saga.workflows import order_processing_workflow, register_default_workflows

pytestmark = pytest.mark.integration

KEYS = "k1:test-signing-key-0123456789"
ORDER = {
    "order_id": "ord-1",
    "customer_email": "ada@example.com",
    "items": [{"sku": "sku-1", "quantity": 1}],
    "amount_cents": 1500,
    "card_token": "tok_ok",
    "recipient_name": "Ada",
    "address_line": "1 Main St",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}


class ScriptedParticipants:
    """Answers every command on the prefixed command topics; ``script`` may override a reply."""

    def __init__(self, coordinator: Coordinator, keyring: KeyRing, copies: int = 1) -> None:
        self.coordinator = coordinator
        self.keyring = keyring
        self.copies = copies
        self.script: dict[str, Callable[[Envelope], Reply | None]] = {}
        self.seen: list[Envelope] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ScriptedParticipants:
        bootstrap = self.coordinator.settings.kafka_bootstrap
        self.consumer = AIOKafkaConsumer(
            *self.coordinator.topology.commands,
            bootstrap_servers=bootstrap,
            group_id=f"scripted-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
        )
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        await self.consumer.start()
        await self.producer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()
        await self.producer.stop()

    async def _run(self) -> None:
        async for record in self.consumer:
            command = Envelope.from_bytes(record.value)
            self.keyring.verify(command)
            self.seen.append(command)
            reply = self.script.get(command.message_type, success_reply)(command)
            if reply is None:
                continue
            template = command.template_name
            event = reply_envelope(command, reply, self.keyring)
            topic = f"{self.coordinator.settings.topic_prefix}{template}.v1.events"
            for _ in range(self.copies):
                await self.producer.send_and_wait(topic, event.to_bytes(), key=command.saga_id.encode())


def _settings(infra: Any, **overrides: Any) -> CoordinatorSettings:
    run = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "kafka_bootstrap": infra.kafka_bootstrap,
        "redis_url": infra.redis_url,
        "redis_prefix": f"it-coord-{run}:",
        "topic_prefix": f"it{run}.",
        "signing_keys": KEYS,
        "api_token": "token",
        "concurrency": 2,
        "timer_interval": 0.05,
        **overrides,
    }
    return CoordinatorSettings(**values)


def _registry() -> WorkflowRegistry:
    registry = WorkflowRegistry()
    register_default_workflows(registry)
    return registry


async def _wait_final(
    coordinator: Coordinator, saga_ids: list[str], seconds: float = 60
) -> dict[str, SagaStatus]:
    deadline = time.monotonic() + seconds
    states: dict[str, SagaStatus] = {}
    while time.monotonic() < deadline:
        for saga_id in saga_ids:
            state = await coordinator.store.load(saga_id)
            if state is not None:
                states[saga_id] = state.status
        if len(states) == len(saga_ids) and all(
            s.terminal or s is SagaStatus.FAILED for s in states.values()
        ):
            return states
        await asyncio.sleep(0.05)
    raise AssertionError(f"sagas not final within {seconds}s: {states}")


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_when_every_participant_succeeds_the_order_saga_completes(infra):
    coordinator = Coordinator(_settings(infra), _registry())
    wf = "order_processing_workflow"
    latencies_before = _metric("sagaline_step_latency_seconds_count", workflow=wf, step="charge_payment")
    completed_before = _metric("sagaline_sagas_total", workflow=wf, event="completed")
    await coordinator.start()
    try:
        async with ScriptedParticipants(coordinator, coordinator.keyring) as jobs:
            _saga, created = await coordinator.engine.start("order_processing_workflow", ORDER, "s-happy")
            assert created
            states = await _wait_final(coordinator, ["s-happy"])
            assert states == {"s-happy": SagaStatus.COMPLETED}
            final = await coordinator.store.load("s-happy")
            assert final is not None
            assert final.data["charge_id"] == "ch-1"
            assert final.data["delivery_id"] == "d-1"
            assert [c.step for c in jobs.seen] == [
                "reserve_inventory",
                "charge_payment",
                "create_shipment",
                "send_confirmation",
            ]
            assert final.trace_parent is None or final.trace_parent.startswith("00-")
            assert _metric("sagaline_sagas_total", workflow=wf, event="completed") == completed_before + 1
            assert (
                _metric("sagaline_step_latency_seconds_count", workflow=wf, step="charge_payment")
                == latencies_before + 1
            )
    finally:
        await coordinator.stop()


async def test_when_every_reply_arrives_three_times_each_step_moves_once(infra):
    coordinator = Coordinator(_settings(infra), _registry())
    await coordinator.start()
    try:
        async with ScriptedParticipants(coordinator, coordinator.keyring, copies=3) as jobs:
            ids = [f"s-dup-{i}" for i in range(5)]
            for saga_id in ids:
                await coordinator.engine.start(
                    "order_processing_workflow", {**ORDER, "order_id": saga_id}, saga_id
                )
            states = await _wait_final(coordinator, ids)
            assert set(states.values()) == {SagaStatus.COMPLETED}
            for saga_id in ids:
                final = await coordinator.store.load(saga_id)
                assert final is not None
                sent = [h for h in final.history if h.event == "command_sent"]
                assert len(sent) == 4, f"{saga_id} sent {len(sent)} commands"
            assert len(jobs.seen) == 4 * len(ids), "no command was sent twice"
    finally:
        await coordinator.stop()


async def test_when_the_card_is_declined_inventory_is_released_and_nothing_else(infra):
    coordinator = Coordinator(_settings(infra), _registry())
    await coordinator.start()
    try:
        async with ScriptedParticipants(coordinator, coordinator.keyring) as jobs:
            jobs.script["payment_gateway.ChargePayment"] = lambda c: payment_gateway.PaymentDeclined(
                reason="card declined", decline_code="card_declined"
            )
            await coordinator.engine.start("order_processing_workflow", ORDER, "s-decline")
            assert await _wait_final(coordinator, ["s-decline"]) == {"s-decline": SagaStatus.COMPENSATED}
            assert [c.message_type for c in jobs.seen] == [
                "inventory.ReserveStock",
                "payment_gateway.ChargePayment",
                "inventory.ReleaseStock",
            ]
    finally:
        await coordinator.stop()


async def test_when_the_publisher_dies_after_commit_the_outbox_is_sent_by_recovery(infra):
    settings = _settings(infra, lease_seconds=0.5)
    crashed = Coordinator(settings, _registry())
    await crashed.start()

    async def lose(entries: Any) -> None:  # the process "dies" between commit and publish
        return None

    crashed.relay.publish = lose  # type: ignore[method-assign]
    await crashed.engine.start("order_processing_workflow", ORDER, "s-outbox")
    assert await crashed.store.outbox_size() == 1
    await crashed.stop()

    survivor = Coordinator(settings, _registry())
    await survivor.start()  # recovers leased-out entries whose lease ran out (after 0.5 s)
    try:
        async with ScriptedParticipants(survivor, survivor.keyring):
            assert await _wait_final(survivor, ["s-outbox"]) == {"s-outbox": SagaStatus.COMPLETED}
        # Sent entries are acknowledged to Redis in batches, so the outbox empties shortly after.
        assert await _outbox_drained(survivor, within=5.0), "sent outbox entries were never acknowledged"
    finally:
        await survivor.stop()


async def _outbox_drained(coordinator: Coordinator, within: float) -> bool:
    deadline = time.monotonic() + within
    while await coordinator.store.outbox_size() > 0:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def test_message_classes_resolve_for_every_scripted_reply():
    for name in (
        "inventory.StockReserved",
        "payment_gateway.PaymentCharged",
        "notification.NotificationSent",
    ):
        assert issubclass(message_class(name), Reply)


def _three_step_version() -> WorkflowDefinition:
    """order_processing_workflow 1.1.0: the same steps but the confirmation email."""
    raw = order_processing_workflow.to_dict()
    return WorkflowDefinition.from_dict({**raw, "version": "1.1.0", "steps": raw["steps"][:3]})


async def test_a_saga_in_flight_across_a_redeploy_with_a_new_version_finishes_on_the_version_it_began(
    infra,
):
    settings = _settings(infra)
    before = Coordinator(settings, _registry())  # only 1.0.0 is deployed
    await before.start()
    try:
        async with ScriptedParticipants(before, before.keyring) as jobs:
            jobs.script["payment_gateway.ChargePayment"] = lambda command: None  # still charging
            await before.engine.start("order_processing_workflow", ORDER, "s-began-on-1.0")
            await wait_until(
                lambda: any(c.step == "charge_payment" for c in jobs.seen), 30, "the charge command"
            )
    finally:
        await before.stop()

    registry = _registry()
    registry.register(_three_step_version())
    after = Coordinator(settings, registry)  # the redeploy: 1.0.0 and 1.1.0
    await after.start()
    try:
        # New participants read every command from the start, so the pending charge is answered.
        async with ScriptedParticipants(after, after.keyring):
            await after.engine.start(
                "order_processing_workflow", {**ORDER, "order_id": "ord-2"}, "s-began-on-1.1"
            )
            states = await _wait_final(after, ["s-began-on-1.0", "s-began-on-1.1"])
        assert set(states.values()) == {SagaStatus.COMPLETED}
        old, new = await after.store.load("s-began-on-1.0"), await after.store.load("s-began-on-1.1")
        assert old is not None
        assert new is not None
        assert (old.workflow_version, new.workflow_version) == ("1.0.0", "1.1.0")
        sent = {
            saga.saga_id: [h.step for h in saga.history if h.event == "command_sent"] for saga in (old, new)
        }
        assert sent["s-began-on-1.0"][-1] == "send_confirmation", "1.0.0 still sends the email"
        assert "send_confirmation" not in sent["s-began-on-1.1"]
    finally:
        await after.stop()


async def test_undecodable_forged_and_unknown_major_events_go_to_the_dlq_and_sagas_go_on(infra):
    coordinator = Coordinator(_settings(infra), _registry())
    await coordinator.start()
    dlq = AIOKafkaConsumer(
        coordinator.topology.dlq,
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=f"dlq-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await dlq.start()
    await producer.start()
    try:
        events = f"{coordinator.settings.topic_prefix}payment_gateway.v1.events"
        async with ScriptedParticipants(coordinator, coordinator.keyring) as jobs:
            jobs.script["payment_gateway.ChargePayment"] = lambda command: None  # answered below
            await coordinator.engine.start("order_processing_workflow", ORDER, "s-dlq")
            await wait_until(lambda: any(c.step == "charge_payment" for c in jobs.seen), 30, "a charge")
            charge = next(c for c in jobs.seen if c.step == "charge_payment")
            reply = reply_envelope(charge, success_reply(charge), coordinator.keyring)
            # Each of these answers the pending charge; none may be applied.
            forged = reply.model_copy(update={"payload": {**reply.payload, "charge_id": "ch-forged"}})
            future = coordinator.keyring.sign(reply.model_copy(update={"contract": "payment_gateway@2.0.0"}))
            bad = {
                "undecodable": b"\xff not json",
                "bad_signature": forged.to_bytes(),
                "unknown_contract_major": future.to_bytes(),
            }
            for body in bad.values():
                await producer.send_and_wait(events, body, key=b"s-dlq")

            reasons: dict[str, bytes] = {}
            async with asyncio.timeout(30):
                async for record in dlq:
                    reasons[dict(record.headers)["x-sagaline-reason"].decode()] = record.value
                    if len(reasons) == len(bad):
                        break
            assert reasons == bad, "each bad event reaches the DLQ with its reason and its bytes"
            state = await coordinator.store.load("s-dlq")
            assert state is not None
            assert state.current_step == "charge_payment", "no bad event moved the saga"

            await producer.send_and_wait(events, reply.to_bytes(), key=b"s-dlq")
            assert await _wait_final(coordinator, ["s-dlq"]) == {"s-dlq": SagaStatus.COMPLETED}
        final = await coordinator.store.load("s-dlq")
        assert final is not None
        assert final.data["charge_id"] == "ch-1"
    finally:
        await dlq.stop()
        await producer.stop()
        await coordinator.stop()
