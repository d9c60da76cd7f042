"""The kit's checks fail on jobs that break their template's rules (a kit that cannot fail proves nothing)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from fake_payment_job import FakePaymentJob, FakePaymentSettings
from sagaline.contracts.job import Declined, JobContext
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentRefunded,
    RefundFailed,
    RefundPayment,
)
from sagaline.contracts.testing import JobHarness, checks, delete_keys, kit_settings

pytestmark = pytest.mark.integration


class RefundNeedsAChargeJob(FakePaymentJob):
    """Breaks "compensation tolerates a step that never happened"."""

    async def refund(self, command: RefundPayment, ctx: JobContext) -> PaymentRefunded:
        if command.order_id not in self.provider.charges:
            raise Declined(RefundFailed(reason="no such charge"))
        return await super().refund(command, ctx)


class UntypedDeclineJob(FakePaymentJob):
    """Breaks "declines are typed failure replies": it raises a plain exception instead."""

    async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged:
        if command.card_token == "tok_decline":
            raise RuntimeError("card declined")
        return await super().charge(command, ctx)


@asynccontextmanager
async def running(
    job_class: Callable[[FakePaymentSettings], FakePaymentJob], infra
) -> AsyncIterator[JobHarness]:
    settings = kit_settings(
        FakePaymentSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["charge", "refund"],
    )
    try:
        async with JobHarness.running(job_class(settings), wait_seconds=3.0) as harness:
            yield harness
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)


async def test_when_a_refund_of_a_never_charged_order_is_refused_the_kit_fails(infra):
    async with running(RefundNeedsAChargeJob, infra) as harness:
        command = RefundPayment(order_id=f"ord-{uuid.uuid4()}", amount_cents=100)
        with pytest.raises(AssertionError, match="never ran must succeed"):
            await checks.check_compensation_of_step_that_never_ran(harness, "refund", command)


async def test_when_a_decline_is_an_untyped_exception_the_kit_fails(infra):
    async with running(UntypedDeclineJob, infra) as harness:
        command = ChargePayment(order_id=f"ord-{uuid.uuid4()}", amount_cents=100, card_token="tok_decline")
        with pytest.raises(AssertionError, match="timed out"):
            await checks.check_declined(harness, "charge", command)
        # What the job did instead: dead-lettered the command (and its duplicate) after the retries.
        assert harness.dead_letter_count("handler_error") == 2
