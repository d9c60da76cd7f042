"""At-least-once delivery: duplicates, late and out-of-order input change nothing and say why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.templates.inventory import StockReleased, StockReserved
from sagaline.contracts.templates.payment_gateway import PaymentCharged, PaymentDeclined
from sagaline.saga import ReplyReceived, SagaState, StartSaga, TimerFired, transition
from sagaline.saga.testing import SagaScenario, given
from sagaline.saga.workflows import OrderData, order_processing_workflow

pytestmark = pytest.mark.unit

RESERVED = StockReserved(order_id="ord-1", reservation_id="res-1")
CHARGED = PaymentCharged(order_id="ord-1", charge_id="ch-1", amount_cents=2599, currency="EUR")


@pytest.fixture
def at_charge(order: OrderData) -> SagaScenario:
    return (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory")
        .when_reply(RESERVED)
        .expect_command("charge_payment", attempt=1)
    )


def assert_unchanged(scenario: SagaScenario, before: SagaState) -> None:
    assert scenario.state is before
    assert scenario.last.outgoing == ()
    assert scenario.last.timers == ()


def test_a_duplicate_reply_is_ignored(at_charge: SagaScenario) -> None:
    before = at_charge.state
    at_charge.when_duplicate_reply().expect_ignored("duplicate reply inventory.StockReserved")
    assert_unchanged(at_charge, before)


def test_a_reply_to_an_earlier_attempt_is_ignored(at_charge: SagaScenario) -> None:
    first = at_charge.sent[-1].envelope
    at_charge.when_timeout().expect_command("charge_payment", attempt=2)
    before = at_charge.state
    at_charge.when_reply(CHARGED, answering=first).expect_ignored(
        "late reply to charge_payment attempt 1: attempt 2 is pending"
    )
    assert_unchanged(at_charge, before)


def test_a_reply_for_a_step_already_left_is_ignored(at_charge: SagaScenario) -> None:
    reserve_command = at_charge.sent[0].envelope
    at_charge.when_reply(CHARGED)
    before = at_charge.state
    at_charge.when_reply(StockReserved(order_id="ord-1", reservation_id="res-2"), answering=reserve_command)
    at_charge.expect_ignored("duplicate reply")
    # A reply the saga never saw before, for a step it has left, is out of order rather than a duplicate.
    charge_command = at_charge.sent[1].envelope
    other = charge_command.model_copy(update={"message_id": "never-answered", "step": "charge_payment"})
    at_charge.when_reply(CHARGED, answering=other).expect_ignored(
        "out-of-order reply for step 'charge_payment': saga waits on 'create_shipment'"
    )
    assert_unchanged(at_charge, before)


def test_a_reply_after_the_saga_ended_is_ignored(at_charge: SagaScenario) -> None:
    at_charge.when_reply(PaymentDeclined(reason="no")).when_reply(
        StockReleased(order_id="ord-1", released=True)
    )
    at_charge.expect_state("compensated")
    before = at_charge.state
    at_charge.when_duplicate_reply().expect_ignored("saga is already compensated")
    assert_unchanged(at_charge, before)


def test_a_reply_of_a_type_the_operation_does_not_have_is_ignored(at_charge: SagaScenario) -> None:
    before = at_charge.state
    at_charge.when_reply(StockReleased(order_id="ord-1", released=True)).expect_ignored(
        "unexpected reply type inventory.StockReleased for charge_payment"
    )
    assert_unchanged(at_charge, before)


def test_a_malformed_reply_payload_is_ignored_naming_the_fields(at_charge: SagaScenario) -> None:
    pending = at_charge.state.pending
    assert pending is not None
    envelope = reply_to(at_charge, "payment_gateway.PaymentCharged", {"order_id": "ord-1"})
    at_charge.when(ReplyReceived(envelope)).expect_ignored(
        "malformed payment_gateway.PaymentCharged payload (charge_id, amount_cents, currency)"
    )


def test_a_reply_on_another_contract_is_ignored(at_charge: SagaScenario) -> None:
    envelope = reply_to(at_charge, "payment_gateway.PaymentCharged", CHARGED.model_dump(mode="json"))
    for contract in ("payment_gateway@2.0.0", "inventory@1.0.0"):
        at_charge.when(ReplyReceived(envelope.model_copy(update={"contract": contract})))
        at_charge.expect_ignored(f"reply contract {contract} does not match payment_gateway@1.0.0")
    at_charge.when(ReplyReceived(envelope.model_copy(update={"contract": "payment_gateway@1.4.2"})))
    at_charge.expect_command("create_shipment")


def test_a_reply_without_causation_or_a_command_envelope_is_ignored(at_charge: SagaScenario) -> None:
    envelope = reply_to(at_charge, "payment_gateway.PaymentCharged", CHARGED.model_dump(mode="json"))
    at_charge.when(ReplyReceived(envelope.model_copy(update={"causation_id": None})))
    at_charge.expect_ignored("has no causation_id")
    at_charge.when(ReplyReceived(envelope.model_copy(update={"kind": Kind.COMMAND})))
    at_charge.expect_ignored("not a reply")


def test_a_stale_timer_is_ignored(at_charge: SagaScenario) -> None:
    pending = at_charge.state.pending
    assert pending is not None
    old_token = pending.timer_token
    at_charge.when_reply(CHARGED)
    before = at_charge.state
    at_charge.when(TimerFired("saga-1", old_token)).expect_ignored(f"stale timer {old_token}")
    assert_unchanged(at_charge, before)


def test_a_timer_after_the_saga_ended_is_ignored(at_charge: SagaScenario) -> None:
    at_charge.when_reply(PaymentDeclined(reason="no"))
    pending = at_charge.state.pending
    assert pending is not None
    at_charge.when_reply(StockReleased(order_id="ord-1", released=True)).expect_state("compensated")
    at_charge.when(TimerFired("saga-1", pending.timer_token)).expect_ignored("saga is compensated")


def test_operator_commands_that_do_not_apply_are_ignored(at_charge: SagaScenario) -> None:
    at_charge.when_resumed().expect_ignored("only a failed saga can be resumed; saga is running")
    at_charge.when_reply(PaymentDeclined(reason="no")).when_cancelled()
    at_charge.expect_ignored("cannot cancel a saga that is compensating")


def test_input_for_an_unknown_saga_is_ignored_and_a_second_start_does_nothing(order: OrderData) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    result = transition(order_processing_workflow, None, TimerFired("ghost", "reply:x"), now)
    assert (result.state, result.ignored) == (None, "unknown saga 'ghost'")
    scenario = given(order_processing_workflow, order)
    before = scenario.state
    scenario.when(StartSaga("saga-1", order)).expect_ignored("saga 'saga-1' already exists (running)")
    assert_unchanged(scenario, before)


def reply_to(scenario: SagaScenario, message_type: str, payload: dict[str, object]) -> Envelope:
    command = scenario.sent[-1].envelope
    return Envelope(
        message_id="reply-1",
        message_type=message_type,
        saga_id=command.saga_id,
        step=command.step,
        attempt=command.attempt,
        kind=Kind.EVENT,
        contract=command.contract,
        provider=command.provider,
        idempotency_key=command.idempotency_key,
        causation_id=command.message_id,
        payload=payload,
    )


def test_a_reply_from_a_provider_the_step_failed_over_from_is_ignored(at_charge: SagaScenario) -> None:
    at_charge.when_timeout().when_timeout()
    stripe_last_attempt = at_charge.sent[-1].envelope
    at_charge.when_timeout()
    at_charge.expect_command("charge_payment", to="stripe", attempt=2)
    at_charge.expect_command("charge_payment", to="stripe", attempt=3)
    at_charge.expect_command("charge_payment", to="paypal", attempt=1)
    before = at_charge.state
    at_charge.when_reply(CHARGED, answering=stripe_last_attempt).expect_ignored(
        "late reply from stripe to charge_payment: the saga moved on to paypal attempt 1"
    )
    assert_unchanged(at_charge, before)
