"""order_processing_workflow end to end through the given/expect harness."""

from __future__ import annotations

import itertools

import pytest
from sagaline.contracts.templates.inventory import StockReleased, StockReserved, StockUnavailable
from sagaline.contracts.templates.notification import NotificationRejected, NotificationSent
from sagaline.contracts.templates.payment_gateway import (
    PaymentCharged,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    RefundFailed,
)
from sagaline.contracts.templates.shipping import ShipmentCancelled, ShipmentCreated, ShipmentRejected
from sagaline.saga.testing import SagaScenario, given
from sagaline.saga.workflows import OrderData, order_processing_workflow

pytestmark = pytest.mark.unit

RESERVED = StockReserved(order_id="ord-1", reservation_id="res-1")
CHARGED = PaymentCharged(order_id="ord-1", charge_id="ch-1", amount_cents=2599, currency="EUR")
SHIPPED = ShipmentCreated(order_id="ord-1", shipment_id="shp-1", tracking_number="1Z999")
RELEASED = StockReleased(order_id="ord-1", released=True)
REFUNDED = PaymentRefunded(order_id="ord-1", refund_id="rf-1", amount_cents=2599)


def charged(order: OrderData) -> SagaScenario:
    return (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory", to="reservation")
        .when_reply(RESERVED)
        .expect_command("charge_payment", to="stripe")
        .when_reply(CHARGED)
    )


def test_happy_path_runs_every_step_in_order_and_completes(order: OrderData) -> None:
    scenario = (
        charged(order)
        .expect_command("create_shipment", to="fedex", payload={"country": "GB", "city": "London"})
        .when_reply(SHIPPED)
        .expect_command(
            "send_confirmation",
            to="email",
            payload={"recipient": "ada@example.com", "subject": "Your order ord-1 is confirmed"},
        )
        .when_reply(NotificationSent(order_id="ord-1", delivery_id="msg-1"))
        .expect_no_command()
        .expect_state("completed")
        .expect_data(reservation_id="res-1", charge_id="ch-1", tracking_number="1Z999", delivery_id="msg-1")
    )
    assert "tracking number 1Z999" in scenario.sent[-1].envelope.payload["body"]
    assert scenario.state.pending is None


def test_when_payment_declined_only_inventory_is_released(order: OrderData) -> None:
    scenario = (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory", to="reservation")
        .when_reply(RESERVED)
        .expect_command("charge_payment", to="stripe")
        .when_reply(PaymentDeclined(reason="card declined", decline_code="card_declined"))
        .expect_compensation("release_inventory", to="reservation", payload={"order_id": "ord-1"})
        .expect_no_command()
        .when_reply(RELEASED)
        .expect_no_command()
        .expect_state("compensated")
    )
    assert "charge_payment declined by stripe" in (scenario.state.rollback_reason or "")
    assert [t.step for t in scenario.state.compensations] == ["reserve_inventory"]


def test_when_stock_is_unavailable_the_saga_is_compensated_without_any_compensation(order: OrderData) -> None:
    (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory")
        .when_reply(StockUnavailable(reason="out of stock", sku="sku-mug"))
        .expect_no_command()
        .expect_state("compensated")
    )


def test_when_stripe_times_out_every_attempt_paypal_takes_over_and_stripe_is_refunded_before_completion(
    order: OrderData,
) -> None:
    scenario = (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory")
        .when_reply(RESERVED)
        .expect_command("charge_payment", to="stripe", attempt=1)
        .when_timeout()
        .expect_command("charge_payment", to="stripe", attempt=2)
        .when_timeout()
        .expect_command("charge_payment", to="stripe", attempt=3)
        .when_timeout()
        .expect_command("charge_payment", to="paypal", attempt=1)
        .when_reply(CHARGED)
        .expect_command("create_shipment")
        .when_reply(SHIPPED)
        .expect_command("send_confirmation")
        .when_reply(NotificationSent(order_id="ord-1", delivery_id="msg-1"))
        # Stripe may have charged before it went quiet: undo that, by order (no charge id known).
        .expect_compensation("refund_payment", to="stripe", payload={"charge_id": None})
        .expect_state("running")
        .when_reply(PaymentRefunded(order_id="ord-1", refund_id=None, amount_cents=2599))
        .expect_no_command()
        .expect_state("completed")
        .expect_data(charge_id="ch-1")
    )
    assert scenario.last.events == ("compensation_succeeded", "completed")
    stripe = [
        o.envelope
        for o in scenario.sent
        if o.envelope.provider == "stripe" and o.envelope.step == "charge_payment"
    ]
    assert {e.idempotency_key for e in stripe} == {"saga-1:charge_payment:charge:stripe"}
    assert len({e.message_id for e in stripe}) == 3
    # 5 s timeout per attempt, retries after 0.1 s and 0.2 s of backoff (the template's policy).
    sent_at = [e.occurred_at for e in stripe]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)] == [5.1, 5.2]
    assert sum("failover" in t.events for t in scenario.transitions) == 1


def test_when_stripe_fails_transiently_the_saga_fails_over_to_paypal_at_once(order: OrderData) -> None:
    scenario = (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory")
        .when_reply(RESERVED)
        .expect_command("charge_payment", to="stripe")
        .when_reply(PaymentFailed(reason="provider outage", retryable=True))
        .expect_command("charge_payment", to="paypal", attempt=1)
        .expect_no_command()
    )
    assert scenario.last.events == ("step_failed", "failover", "command_sent")


def test_when_both_providers_fail_the_reservation_is_released(order: OrderData) -> None:
    (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory")
        .when_reply(RESERVED)
        .expect_command("charge_payment", to="stripe")
        .when_reply(PaymentFailed(reason="outage", retryable=True))
        .expect_command("charge_payment", to="paypal")
        .when_reply(PaymentFailed(reason="outage", retryable=True))
        # Both may have charged before giving up: refund on each, latest first, then release.
        .expect_compensation("refund_payment", to="paypal", payload={"charge_id": None})
        .when_reply(REFUNDED)
        .expect_compensation("refund_payment", to="stripe", payload={"charge_id": None})
        .when_reply(REFUNDED)
        .expect_compensation("release_inventory")
        .when_reply(RELEASED)
        .expect_state("compensated")
    )


def test_when_shipping_is_rejected_payment_is_refunded_then_stock_released(order: OrderData) -> None:
    (
        charged(order)
        .expect_command("create_shipment")
        .when_reply(ShipmentRejected(reason="undeliverable address"))
        # A rejected shipment never existed: no cancel_shipment.
        .expect_compensation(
            "refund_payment", to="stripe", payload={"charge_id": "ch-1", "amount_cents": 2599}
        )
        .when_reply(REFUNDED)
        .expect_compensation("release_inventory", to="reservation")
        .when_reply(RELEASED)
        .expect_no_command()
        .expect_state("compensated")
    )


def test_when_the_confirmation_is_rejected_everything_before_it_is_undone_in_reverse(
    order: OrderData,
) -> None:
    (
        charged(order)
        .expect_command("create_shipment")
        .when_reply(SHIPPED)
        .expect_command("send_confirmation")
        .when_reply(NotificationRejected(reason="mailbox unknown"))
        .expect_compensation("cancel_shipment", to="fedex")
        .when_reply(ShipmentCancelled(order_id="ord-1", cancelled=True))
        .expect_compensation("refund_payment", to="stripe")
        .when_reply(REFUNDED)
        .expect_compensation("release_inventory")
        .when_reply(RELEASED)
        .expect_state("compensated")
    )


def test_when_a_refund_keeps_failing_the_saga_is_parked_failed_and_resume_finishes_it(
    order: OrderData,
) -> None:
    policy = next(s for s in order_processing_workflow.steps if s.name == "charge_payment").compensation
    assert policy is not None
    attempts = policy.retry.max_attempts
    scenario = (
        charged(order)
        .expect_command("create_shipment")
        .when_reply(ShipmentRejected(reason="undeliverable"))
        .expect_compensation("refund_payment", attempt=1)
        .when_reply(RefundFailed(reason="provider outage", retryable=True))
        .expect_no_command()
        .advance(policy.retry.initial_interval)
        .expect_compensation("refund_payment", attempt=2)
    )
    for attempt in range(3, attempts + 1):
        scenario.when_timeout().expect_compensation("refund_payment", attempt=attempt)
    scenario.when_timeout().expect_no_command().expect_state("failed")
    state = scenario.state
    assert f"refund_payment on stripe failed after {attempts} attempts" in (state.failure_reason or "")
    assert [(t.compensation, t.done) for t in state.compensations] == [
        ("refund_payment", False),
        ("release_inventory", False),
    ]
    first_round_key = scenario.sent[-1].envelope.idempotency_key

    scenario.when_resumed("provider is back").expect_state("compensating")
    scenario.expect_compensation("refund_payment", to="stripe", attempt=1)
    assert scenario.sent[-1].envelope.idempotency_key == first_round_key + ":r1"
    (
        scenario.when_reply(REFUNDED)
        .expect_compensation("release_inventory")
        .when_reply(RELEASED)
        .expect_state("compensated")
    )
    assert scenario.state.failure_reason is None


def test_a_non_retryable_refund_failure_parks_the_saga_at_once(order: OrderData) -> None:
    (
        charged(order)
        .expect_command("create_shipment")
        .when_reply(ShipmentRejected(reason="undeliverable"))
        .expect_compensation("refund_payment")
        .when_reply(RefundFailed(reason="charge is disputed", retryable=False))
        .expect_no_command()
        .expect_state("failed")
    )


def test_cancelling_a_running_saga_undoes_what_was_done_and_what_is_in_flight(order: OrderData) -> None:
    scenario = (
        charged(order)
        .expect_command("create_shipment", to="fedex")
        .when_cancelled("customer changed their mind")
        .expect_compensation("cancel_shipment", to="fedex")
        .when_reply(ShipmentCancelled(order_id="ord-1", cancelled=False))
        .expect_compensation("refund_payment")
        .when_reply(REFUNDED)
        .expect_compensation("release_inventory")
        .when_reply(RELEASED)
        .expect_state("compensated")
    )
    assert scenario.state.rollback_reason == "cancelled by operator: customer changed their mind"


def test_cancelling_a_failed_saga_gives_up_and_records_it(order: OrderData) -> None:
    scenario = (
        charged(order)
        .expect_command("create_shipment")
        .when_reply(ShipmentRejected(reason="undeliverable"))
        .expect_compensation("refund_payment")
        .when_reply(RefundFailed(reason="disputed", retryable=False))
        .expect_state("failed")
        .when_cancelled("refunded by hand")
        .expect_state("cancelled")
        .expect_no_command()
    )
    assert scenario.state.history[-1].event == "cancelled"
    assert scenario.state.history[-1].detail == "refunded by hand"
    scenario.when_resumed().expect_ignored("only a failed saga can be resumed")


def failed_over_to_paypal(order: OrderData) -> SagaScenario:
    return (
        given(order_processing_workflow, order)
        .expect_command("reserve_inventory")
        .when_reply(RESERVED)
        .expect_command("charge_payment", to="stripe")
        .when_reply(PaymentFailed(reason="stripe answered 503", retryable=True))
        .expect_command("charge_payment", to="paypal")
        .when_reply(CHARGED)
        .expect_command("create_shipment")
        .when_reply(SHIPPED)
        .expect_command("send_confirmation")
        .when_reply(NotificationSent(order_id="ord-1", delivery_id="msg-1"))
    )


def test_a_retryable_failure_is_undone_on_its_provider_before_the_failed_over_saga_completes(
    order: OrderData,
) -> None:
    scenario = (
        failed_over_to_paypal(order)
        .expect_compensation("refund_payment", to="stripe", payload={"charge_id": None})
        .when_reply(PaymentRefunded(order_id="ord-1", refund_id=None, amount_cents=2599))
        .expect_no_command()
        .expect_state("completed")
    )
    refunds = [o.envelope for o in scenario.sent if o.envelope.step == "refund_payment"]
    assert [e.provider for e in refunds] == ["stripe"], "the charge that stands (paypal) is never refunded"


def test_a_late_stripe_charge_after_the_failover_changes_nothing_because_stripe_is_refunded(
    order: OrderData,
) -> None:
    scenario = failed_over_to_paypal(order).expect_compensation("refund_payment", to="stripe")
    stripe_charge = next(o.envelope for o in scenario.sent if o.envelope.provider == "stripe")
    (
        scenario.when_reply(CHARGED, answering=stripe_charge)
        .expect_ignored()
        .expect_state("running")
        .when_reply(REFUNDED)
        .expect_state("completed")
    )


def test_when_undoing_a_failed_over_charge_gives_up_the_saga_is_parked_and_a_resume_completes_it(
    order: OrderData,
) -> None:
    scenario = failed_over_to_paypal(order).expect_compensation("refund_payment", to="stripe")
    for _ in range(50):
        if scenario.state.status == "failed":
            break
        scenario.when_reply(RefundFailed(reason="stripe answered 503", retryable=True))
        if scenario.state.pending is not None and not scenario.state.pending.sent:
            scenario.when_timeout()  # the retry's backoff runs out
    assert scenario.state.status == "failed"
    assert "refund_payment on stripe" in (scenario.state.failure_reason or "")

    scenario.when_resumed("stripe is back").expect_state("running")
    assert scenario.sent[-1].envelope.idempotency_key == "saga-1:refund_payment:refund:stripe:r1"
    scenario.when_reply(REFUNDED).expect_state("completed")
    assert scenario.last.outgoing == ()


def test_cancelling_a_saga_while_it_settles_rolls_everything_back_in_reverse_order(
    order: OrderData,
) -> None:
    scenario = failed_over_to_paypal(order).expect_compensation("refund_payment", to="stripe")
    settling_refund = scenario.sent[-1].envelope
    (
        scenario.when_cancelled("customer withdrew")
        .expect_state("compensating")
        .expect_compensation("cancel_shipment", to="fedex")
        .when_reply(ShipmentCancelled(order_id="ord-1", cancelled=True))
        .expect_compensation("refund_payment", to="paypal", payload={"charge_id": "ch-1"})
        .when_reply(REFUNDED)
        .expect_compensation("refund_payment", to="stripe", payload={"charge_id": None})
    )
    # The same refund as the one settling sent: the job answers it from its idempotency store.
    assert scenario.sent[-1].envelope.idempotency_key == settling_refund.idempotency_key
    (
        scenario.when_reply(REFUNDED)
        .expect_compensation("release_inventory")
        .when_reply(RELEASED)
        .expect_no_command()
        .expect_state("compensated")
    )
