"""The generic command flow on the in-memory broker: replies, duplicates, declines, retries, errors."""

from __future__ import annotations

import dataclasses
import time

import pytest
from fake_payment_job import FakePaymentJob
from sagaline.contracts.envelope import Kind
from sagaline.contracts.job import Declined, JobContext, TransientError
from sagaline.contracts.templates import payment_gateway
from sagaline.contracts.templates.inventory import StockUnavailable
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    RefundPayment,
)

pytestmark = pytest.mark.unit


def charge(order_id: str = "ord-1", token: str = "tok_visa") -> ChargePayment:
    return ChargePayment(order_id=order_id, amount_cents=2599, currency="EUR", card_token=token)


async def test_a_valid_charge_is_answered_with_a_signed_payment_charged_event(rig):
    command = rig.command(charge(), step="charge_payment", workflow="order_processing", attempt=1)
    await rig.send(command)

    [captured] = rig.replies
    reply = rig.reply_envelopes()[0]
    rig.app.settings.key_ring().verify(reply)
    assert captured.key == command.saga_id.encode()
    assert reply.kind is Kind.EVENT
    assert reply.message_type == PaymentCharged.message_type
    assert reply.causation_id == command.message_id
    assert (reply.saga_id, reply.step, reply.attempt, reply.workflow) == (
        command.saga_id,
        "charge_payment",
        1,
        "order_processing",
    )
    assert reply.idempotency_key == command.idempotency_key
    assert reply.provider == "fakepay"
    assert reply.contract == "payment_gateway@1.0.0"
    charged = PaymentCharged.model_validate(reply.payload)
    assert charged.charge_id == rig.job.provider.charges["ord-1"]
    assert (charged.amount_cents, charged.currency) == (2599, "EUR")
    assert rig.dead_letters == []


async def test_a_redelivered_command_gets_a_byte_identical_reply_and_no_second_charge(rig):
    command = rig.command(charge())
    await rig.send(command)
    await rig.send(command)

    assert len(rig.replies) == 2
    assert rig.replies[0].body == rig.replies[1].body
    assert rig.spy.calls("charge", command.idempotency_key) == 1
    assert len(rig.job.provider.charges) == 1


async def test_a_coordinator_retry_with_the_next_attempt_gets_the_stored_outcome_for_that_attempt(rig):
    first = rig.command(charge())
    retry = rig.command(charge(), saga_id=first.saga_id, idempotency_key=first.idempotency_key, attempt=2)
    await rig.send(first)
    await rig.send(retry)

    one, two = rig.reply_envelopes()
    assert (two.attempt, two.causation_id) == (2, retry.message_id)
    assert two.message_id != one.message_id
    assert two.payload == one.payload
    assert rig.spy.calls("charge") == 1


async def test_the_same_idempotency_key_on_another_command_type_is_not_replayed(rig):
    charged = rig.command(charge())
    refund = rig.command(
        RefundPayment(order_id="ord-1", amount_cents=2599, currency="EUR"),
        saga_id=charged.saga_id,
        idempotency_key=charged.idempotency_key,
    )
    await rig.send(charged)
    await rig.send(refund)

    assert [r.message_type for r in rig.reply_envelopes()] == [
        PaymentCharged.message_type,
        PaymentRefunded.message_type,
    ]


async def test_a_declined_card_gets_a_payment_declined_reply_that_is_not_retryable(rig):
    command = rig.command(charge(token="tok_decline"))
    await rig.send(command)
    await rig.send(command)

    first, second = rig.reply_envelopes()
    assert first.message_type == PaymentDeclined.message_type
    declined = PaymentDeclined.model_validate(first.payload)
    assert (declined.decline_code, declined.retryable) == ("card_declined", False)
    assert second.model_dump() == first.model_dump()
    assert rig.spy.calls("charge") == 1


async def test_a_refund_of_a_never_charged_order_succeeds_with_nothing_refunded(rig):
    await rig.send(rig.command(RefundPayment(order_id="never-charged", amount_cents=100)))

    [reply] = rig.reply_envelopes()
    assert reply.message_type == PaymentRefunded.message_type
    assert PaymentRefunded.model_validate(reply.payload).refund_id is None


async def test_a_transient_error_is_retried_after_the_policy_backoff_then_succeeds(rig_for, settings_with):
    settings = settings_with(retry={"charge": {"initial_interval": 0.05, "max_interval": 0.05}})
    async with rig_for(FakePaymentJob(settings)) as rig:
        rig.spy.fail("charge", TransientError("gateway 503"))
        started = time.perf_counter()
        await rig.send(rig.command(charge()))
        elapsed = time.perf_counter() - started

    [reply] = rig.reply_envelopes()
    assert reply.message_type == PaymentCharged.message_type
    assert rig.spy.calls("charge") == 2
    assert elapsed >= 0.05


async def test_transient_errors_past_the_retry_policy_give_a_retryable_payment_failed(rig):
    attempts = rig.app.runtime.retry_policy("charge").max_attempts
    rig.spy.fail("charge", *(TransientError("gateway 503") for _ in range(attempts)))
    command = rig.command(charge())
    await rig.send(command)
    await rig.send(command)

    first, second = rig.reply_envelopes()
    failed = PaymentFailed.model_validate(first.payload)
    assert first.message_type == PaymentFailed.message_type
    assert (failed.retryable, failed.reason) == (True, "gateway 503")
    assert second.model_dump() == first.model_dump()
    assert rig.spy.calls("charge") == attempts


async def test_the_coordinators_next_attempt_after_a_retryable_failure_calls_the_provider_again(rig):
    attempts = rig.app.runtime.retry_policy("charge").max_attempts
    rig.spy.fail("charge", *(TransientError("gateway 503") for _ in range(attempts)))
    first = rig.command(charge())
    await rig.send(first)
    retry = rig.command(charge(), saga_id=first.saga_id, idempotency_key=first.idempotency_key, attempt=2)
    await rig.send(retry)
    await rig.send(retry)

    failed, charged, replayed = rig.reply_envelopes()
    assert failed.message_type == PaymentFailed.message_type
    assert (charged.message_type, charged.attempt) == (PaymentCharged.message_type, 2)
    assert replayed.model_dump() == charged.model_dump()
    assert rig.spy.calls("charge") == attempts + 1


async def test_a_provider_slower_than_the_operation_timeout_is_a_transient_failure(rig_for, settings_with):
    template = payment_gateway.TEMPLATE
    ops = {name: dataclasses.replace(op, timeout=0.02) for name, op in template.operations.items()}

    class SlowGatewayJob(FakePaymentJob):
        template = dataclasses.replace(payment_gateway.TEMPLATE, operations=ops)

    async with rig_for(SlowGatewayJob(settings_with(fake_latency_seconds=1.0))) as rig:
        await rig.send(rig.command(charge()))

    [reply] = rig.reply_envelopes()
    failed = PaymentFailed.model_validate(reply.payload)
    assert failed.retryable
    assert failed.reason == "no answer within 0.02s"
    assert rig.spy.calls("charge") == rig.app.runtime.retry_policy("charge").max_attempts


async def test_an_unexpected_exception_is_dead_lettered_after_the_retries_and_the_key_is_freed(rig):
    attempts = rig.app.runtime.retry_policy("charge").max_attempts
    rig.spy.fail("charge", *(KeyError("boom") for _ in range(attempts)))
    command = rig.command(charge())
    await rig.send(command)

    [letter] = rig.dead_letters
    assert letter.body == command.to_bytes()
    assert letter.headers["x-sagaline-reason"] == "handler_error"
    assert "KeyError" in letter.headers["x-sagaline-detail"]
    assert rig.replies == []
    assert rig.spy.calls("charge") == attempts

    # The lease was released, so a later delivery (a coordinator retry) may try the provider again.
    await rig.send(command)
    assert [r.message_type for r in rig.reply_envelopes()] == [PaymentCharged.message_type]


async def test_a_hook_returning_another_operations_reply_is_dead_lettered_as_a_contract_violation(
    rig_for, settings
):
    class ConfusedJob(FakePaymentJob):
        async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged:
            return PaymentRefunded(order_id=command.order_id, refund_id=None, amount_cents=1)  # type: ignore[return-value]

    async with rig_for(ConfusedJob(settings)) as rig:
        await rig.send(rig.command(charge()))

    [letter] = rig.dead_letters
    assert letter.headers["x-sagaline-reason"] == "contract_violation"
    assert "PaymentRefunded" in letter.headers["x-sagaline-detail"]
    assert rig.spy.calls("charge") == 1


async def test_a_decline_with_a_failure_of_another_template_is_a_contract_violation(rig_for, settings):
    class WrongDeclineJob(FakePaymentJob):
        async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged:
            raise Declined(StockUnavailable(reason="no", sku="x"))

    async with rig_for(WrongDeclineJob(settings)) as rig:
        await rig.send(rig.command(charge()))

    [letter] = rig.dead_letters
    assert letter.headers["x-sagaline-reason"] == "contract_violation"
    assert rig.replies == []
