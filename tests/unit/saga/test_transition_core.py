"""The pure core's contract with its adapters: deterministic output, envelopes, timers, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sagaline.contracts.envelope import Kind
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.templates import inventory, payment_gateway
from sagaline.contracts.templates.inventory import StockReleased, StockReserved
from sagaline.contracts.templates.payment_gateway import (
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
)
from sagaline.contracts.templates.shipping import ShipmentRejected
from sagaline.saga import (
    HistoryEntry,
    SagaState,
    StartSaga,
    TimerFired,
    Transition,
    WorkflowDefinition,
    transition,
    workflow,
)
from sagaline.saga.state import HISTORY_LIMIT
from sagaline.saga.testing import given
from sagaline.saga.workflows import OrderData, order_processing_workflow

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RESERVED = StockReserved(order_id="ord-1", reservation_id="res-1")
CHARGED = PaymentCharged(order_id="ord-1", charge_id="ch-1", amount_cents=2599, currency="EUR")
REFUNDED = PaymentRefunded(order_id="ord-1", refund_id="rf-1", amount_cents=2599)


def test_the_same_inputs_give_the_same_state_ids_and_timers(order: OrderData) -> None:
    def run() -> list[Transition]:
        return (
            given(order_processing_workflow, order, saga_id="s-42")
            .when_reply(RESERVED)
            .when_timeout()
            .when_reply(PaymentFailed(reason="outage", retryable=True))
            .when_cancelled("stop")
            .transitions
        )

    first, second = run(), run()
    assert first == second
    ids = [out.envelope.message_id for t in first for out in t.outgoing]
    assert len(ids) == len(set(ids)) == 5


def test_the_first_command_carries_everything_a_job_and_a_trace_need(order: OrderData) -> None:
    result = transition(order_processing_workflow, None, StartSaga("s-1", order), NOW)
    assert result.changed
    (out,) = result.outgoing
    env = out.envelope
    assert (out.topic, out.key) == ("inventory.v1.reservation.commands", "s-1")
    assert env.kind is Kind.COMMAND
    assert env.message_type == "inventory.ReserveStock"
    assert (env.workflow, env.workflow_version, env.step, env.attempt) == (
        "order_processing_workflow",
        "1.0.0",
        "reserve_inventory",
        1,
    )
    assert (env.contract, env.provider) == ("inventory@1.0.0", "reservation")
    assert env.idempotency_key == "s-1:reserve_inventory:reserve:reservation"
    assert (env.causation_id, env.occurred_at, env.signature) == (None, NOW, "")
    assert env.payload == {"order_id": "ord-1", "items": [{"sku": "sku-mug", "quantity": 2}]}
    (timer,) = result.timers
    assert (timer.saga_id, timer.due_at) == ("s-1", NOW + timedelta(seconds=5))
    assert result.state is not None
    assert result.state.pending is not None
    assert timer.token == result.state.pending.timer_token


def test_a_command_caused_by_a_reply_names_that_reply(order: OrderData) -> None:
    scenario = given(order_processing_workflow, order).when_reply(RESERVED)
    charge = scenario.sent[-1].envelope
    assert charge.message_type == "payment_gateway.ChargePayment"
    assert charge.causation_id == scenario.replies[-1].message_id


def test_every_transition_bumps_the_version_and_asks_for_at_most_one_timer(order: OrderData) -> None:
    scenario = (
        given(order_processing_workflow, order)
        .when_reply(RESERVED)
        .when_timeout()
        .when_duplicate_reply()
        .when_reply(CHARGED)
    )
    applied = [t for t in scenario.transitions if t.changed]
    assert [t.state.version for t in applied if t.state] == list(range(1, len(applied) + 1))
    assert all(len(t.timers) <= 1 for t in scenario.transitions)
    assert (scenario.transitions[4].ignored or "").startswith("duplicate reply inventory.StockReserved")


def test_the_state_round_trips_through_json(order: OrderData) -> None:
    scenario = given(order_processing_workflow, order).when_reply(RESERVED).when_timeout()
    state = scenario.state
    assert SagaState.from_json(state.to_json()) == state


def test_history_is_bounded_and_keeps_the_latest_entries() -> None:
    patient = (
        workflow("patient", "1.0.0")
        .step("release")
        .invoke(
            inventory.TEMPLATE,
            "release",
            providers=["r"],
            command={"order_id": "$.order_id"},
            retry=RetryPolicy(max_attempts=60, initial_interval=1, max_interval=1),
        )
        .build()
    )
    scenario = given(patient, {"order_id": "o"})
    for _ in range(40):
        scenario.when_timeout()
    assert len(scenario.state.history) == HISTORY_LIMIT
    last: HistoryEntry = scenario.state.history[-1]
    assert (last.event, last.attempt) == ("command_sent", 41)


def test_adapter_mistakes_raise(order: OrderData) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        transition(order_processing_workflow, None, StartSaga("s", order), datetime(2026, 1, 1))
    state = given(order_processing_workflow, order).state
    other = WorkflowDefinition.from_dict({**order_processing_workflow.to_dict(), "version": "9.0.0"})
    with pytest.raises(
        ValueError, match=r"runs order_processing_workflow@1.0.0, not order_processing_workflow@9.0.0"
    ):
        transition(other, state, TimerFired(state.saga_id, "x"), NOW)
    with pytest.raises(ValueError, match="for saga other applied to saga saga-1"):
        transition(order_processing_workflow, state, TimerFired("other", "x"), NOW)


def test_data_that_cannot_build_a_command_rolls_the_saga_back_with_the_reason(order: OrderData) -> None:
    data = order.model_dump(mode="json")
    del data["card_token"]
    scenario = (
        given(order_processing_workflow, data)
        .expect_command("reserve_inventory")
        .when_reply(RESERVED)
        .expect_compensation("release_inventory")
        .when_reply(StockReleased(order_id="ord-1", released=True))
        .expect_state("compensated")
    )
    reason = scenario.state.rollback_reason or ""
    assert (
        "cannot build payment_gateway.ChargePayment for charge_payment: card_token: Field required" in reason
    )
    assert [o.outcome for o in scenario.state.outcomes_of("charge_payment")] == ["declined"]


def test_a_failure_listed_as_non_retryable_compensates_without_failover() -> None:
    strict = (
        workflow("strict", "1.0.0")
        .step("charge")
        .invoke(
            payment_gateway.TEMPLATE,
            "charge",
            providers=["stripe", "paypal"],
            command={"order_id": "$.id", "amount_cents": 100, "card_token": "tok"},
            retry=RetryPolicy(non_retryable=("payment_gateway.PaymentFailed",)),
        )
        .with_compensation("refund", command={"order_id": "$.id", "amount_cents": 100})
        .build()
    )
    (
        given(strict, {"id": "o-9"})
        .expect_command("charge", to="stripe")
        .when_reply(PaymentFailed(reason="fraud suspected", retryable=True))
        .expect_no_command()
        .expect_state("compensated")
    )


def test_an_abandoned_provider_is_refunded_without_the_charge_id_of_the_provider_that_replied(
    order: OrderData,
) -> None:
    scenario = (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory")
        .when_reply(RESERVED)
        .expect_command("charge_payment", to="stripe")
        .when_timeout()
        .when_timeout()
        .when_timeout()
        .expect_command("charge_payment", to="stripe", attempt=2)
        .expect_command("charge_payment", to="stripe", attempt=3)
        .expect_command("charge_payment", to="paypal")
        .when_reply(CHARGED)
        .expect_command("create_shipment")
        .when_reply(ShipmentRejected(reason="undeliverable"))
        .expect_compensation("refund_payment", to="paypal", payload={"charge_id": "ch-1"})
        .when_reply(REFUNDED)
        .expect_compensation("refund_payment", to="stripe", payload={"charge_id": None, "amount_cents": 2599})
        .when_reply(REFUNDED)
        .expect_compensation("release_inventory")
        .when_reply(StockReleased(order_id="ord-1", released=True))
        .expect_state("compensated")
    )
    assert [(o.provider, o.outcome) for o in scenario.state.outcomes_of("charge_payment")] == [
        ("stripe", "uncertain"),
        ("paypal", "succeeded"),
    ]


def test_start_data_must_be_json_serialisable() -> None:
    with pytest.raises(ValueError, match="saga data must be JSON-serialisable"):
        transition(order_processing_workflow, None, StartSaga("s", {"when": object()}), NOW)
