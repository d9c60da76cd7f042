"""``PaymentJobSuite``: the behaviour every simulated payment job shares, against the real stack.

In a payment job's ``tests/``::

    class TestStripePayments(PaymentJobSuite):
        job_class = StripeJob
        settings_class = StripeSettings
        module = "payment_gateway_stripe_job"

Declines, the funds limit, outages, and the ledger (no double charge, every refund matches a
charge) through Kafka, plus the job as its own process stopped with SIGTERM mid-stream.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.templates.payment_gateway import (
    TEMPLATE,
    ChargePayment,
    PaymentCharged,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    RefundFailed,
    RefundPayment,
)
from sagaline.contracts.testing import JobHarness, command_envelope, delete_keys, kit_settings
from sagaline.simulators.calls import CallLog
from sagaline.simulators.faults import OutageSwitch
from sagaline.simulators.ledger import PaymentLedger
from sagaline.simulators.testing.processes import free_port, restart_mid_stream

FUNDS_LIMIT_CENTS = 50_000
PROCESS_COMMANDS = 30


class PaymentProvider(Protocol):
    async def charge(self, command: ChargePayment, idempotency_key: str) -> PaymentCharged: ...


def _order() -> str:
    return f"ord-{uuid.uuid4().hex[:10]}"


class PaymentJobSuite:
    """Subclass as ``Test<Provider>Payments`` and set the three members marked *provide*."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [
        pytest.mark.integration,
        pytest.mark.asyncio(loop_scope="session"),
    ]

    job_class: ClassVar[Callable[..., TemplateJob]]
    """*Provide*: the job class; its instances expose the adapter as ``provider``."""
    settings_class: ClassVar[Callable[..., JobSettings]]
    """*Provide*: its settings class (a ``PaymentSimulatorSettings``)."""
    module: ClassVar[str]
    """*Provide*: the job's package, run as ``python -m <module>``."""

    # -- fixtures ----------------------------------------------------------------------------

    @pytest_asyncio.fixture(scope="class", loop_scope="session")
    @classmethod
    async def harness(cls, infra: Any) -> AsyncIterator[JobHarness]:
        settings = cls._settings(infra, sim_insufficient_funds_above_cents=FUNDS_LIMIT_CENTS)
        try:
            async with JobHarness.running(cls.job_class(settings), wait_seconds=15.0) as running:
                yield running
        finally:
            await delete_keys(infra.redis_url, settings.redis_prefix)

    @pytest_asyncio.fixture(loop_scope="session")
    async def redis(self, infra: Any) -> AsyncIterator[Redis]:
        client = Redis.from_url(infra.redis_url, decode_responses=True)
        yield client
        await client.aclose()

    @classmethod
    def _settings(cls, infra: Any, **overrides: Any) -> JobSettings:
        return kit_settings(
            cls.settings_class,
            kafka_bootstrap=infra.kafka_bootstrap,
            redis_url=infra.redis_url,
            operations=list(TEMPLATE.operations),
            **overrides,
        )

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def ledger(harness: JobHarness, redis: Redis) -> PaymentLedger:
        settings = harness.app.settings
        return PaymentLedger(redis, settings.redis_prefix, settings.provider)

    @staticmethod
    async def answer(harness: JobHarness, env: Envelope) -> Envelope:
        await harness.send(env)
        [record] = await harness.replies(env.saga_id)
        return Envelope.from_bytes(record.value or b"")

    async def charge(
        self, harness: JobHarness, order_id: str, amount_cents: int = 2599, token: str = "tok_visa"
    ) -> Envelope:
        command = ChargePayment(order_id=order_id, amount_cents=amount_cents, card_token=token)
        return await self.answer(harness, harness.command(command))

    async def refund(self, harness: JobHarness, command: RefundPayment) -> PaymentRefunded:
        reply = await self.answer(harness, harness.command(command))
        assert reply.message_type == PaymentRefunded.message_type, reply
        return PaymentRefunded.model_validate(reply.payload)

    # -- declines ----------------------------------------------------------------------------

    async def test_when_the_card_token_is_declined_the_reply_is_a_card_decline_and_nothing_is_charged(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        order_id = _order()
        reply = await self.charge(harness, order_id, token="tok_declined")
        assert reply.message_type == PaymentDeclined.message_type
        declined = PaymentDeclined.model_validate(reply.payload)
        assert (declined.decline_code, declined.retryable) == ("card_declined", False)
        assert (await self.ledger(harness, redis).snapshot()).charges_for(order_id) == []

    async def test_when_the_amount_is_above_the_funds_limit_the_reply_is_insufficient_funds(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        order_id = _order()
        reply = await self.charge(harness, order_id, amount_cents=FUNDS_LIMIT_CENTS + 1)
        assert reply.message_type == PaymentDeclined.message_type
        assert PaymentDeclined.model_validate(reply.payload).decline_code == "insufficient_funds"
        assert (await self.ledger(harness, redis).snapshot()).charges_for(order_id) == []
        at_limit = await self.charge(harness, _order(), amount_cents=FUNDS_LIMIT_CENTS)
        assert at_limit.message_type == PaymentCharged.message_type

    # -- outages -----------------------------------------------------------------------------

    async def test_during_an_outage_the_charge_is_retried_then_fails_retryable_and_charges_nothing(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        settings = harness.app.settings
        outage = OutageSwitch(redis, settings.redis_prefix, settings.provider)
        attempts = harness.app.runtime.retry_policy("charge").max_attempts
        order_id = _order()
        env = harness.command(ChargePayment(order_id=order_id, amount_cents=1500, card_token="tok_visa"))
        await outage.start(30)
        try:
            reply = await self.answer(harness, env)
        finally:
            await outage.end()
        assert reply.message_type == PaymentFailed.message_type
        assert PaymentFailed.model_validate(reply.payload).retryable
        log = CallLog(redis, settings.redis_prefix, settings.provider)
        assert await log.count("charge", env.idempotency_key) == attempts
        assert (await self.ledger(harness, redis).snapshot()).charges_for(order_id) == []
        after = await self.charge(harness, order_id)
        assert after.message_type == PaymentCharged.message_type

    async def test_an_outage_in_the_settings_starts_with_the_job(self, infra: Any, redis: Redis) -> None:
        settings = self._settings(infra, sim_outage_seconds=20)
        job = self.job_class(settings)
        try:
            await job.startup()
            remaining = await OutageSwitch(redis, settings.redis_prefix, settings.provider).remaining()
            assert 15 < remaining <= 20
        finally:
            await job.shutdown()
            await delete_keys(infra.redis_url, settings.redis_prefix)

    # -- the ledger --------------------------------------------------------------------------

    async def test_duplicate_and_retried_commands_never_charge_twice(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        order_id = _order()
        command = ChargePayment(order_id=order_id, amount_cents=4200, card_token="tok_visa")
        env = harness.command(command)
        retry = harness.command(command, saga_id=env.saga_id, idempotency_key=env.idempotency_key, attempt=2)
        for message in (env, env, retry):
            await harness.send(message)
        replies = await harness.replies(env.saga_id, 3)
        charge_ids = {
            PaymentCharged.model_validate(Envelope.from_bytes(r.value or b"").payload).charge_id
            for r in replies
        }
        charges = (await self.ledger(harness, redis).snapshot()).charges_for(order_id)
        assert [c.charge_id for c in charges] == list(charge_ids)

    async def test_a_provider_call_repeated_with_the_same_idempotency_key_returns_the_first_charge(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        # A job that dies after the provider charged but before the outcome was stored calls the
        # provider again for the redelivered command, with the same key.
        job: Any = harness.app.job
        provider: PaymentProvider = job.provider
        command = ChargePayment(order_id=_order(), amount_cents=999, card_token="tok_visa")
        key = f"idem-{uuid.uuid4()}"
        first = await provider.charge(command, key)
        again = await provider.charge(command, key)
        assert again == first
        charges = (await self.ledger(harness, redis).snapshot()).charges_for(command.order_id)
        assert [c.charge_id for c in charges] == [first.charge_id]

    async def test_every_refund_matches_a_charge_with_or_without_the_charge_id(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        by_id, by_order, never_charged = _order(), _order(), _order()
        charged = PaymentCharged.model_validate(
            (await self.charge(harness, by_id, amount_cents=1234)).payload
        )
        await self.charge(harness, by_order, amount_cents=5678)
        replies = [
            await self.refund(
                harness, RefundPayment(order_id=by_id, charge_id=charged.charge_id, amount_cents=1234)
            ),
            await self.refund(harness, RefundPayment(order_id=by_order, amount_cents=5678)),
            await self.refund(harness, RefundPayment(order_id=never_charged, amount_cents=100)),
        ]
        assert [r.refund_id is not None for r in replies] == [True, True, False]
        snapshot = await self.ledger(harness, redis).snapshot()
        assert snapshot.problems() == []
        assert [snapshot.net_cents(o) for o in (by_id, by_order, never_charged)] == [0, 0, 0]
        assert [r.refund_id for r in snapshot.refunds_for(by_order)] == [replies[1].refund_id]
        assert snapshot.refunds_for(never_charged) == []

    async def test_a_second_refund_of_a_charge_returns_the_first_refund(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        order_id = _order()
        await self.charge(harness, order_id, amount_cents=3000)
        first = await self.refund(harness, RefundPayment(order_id=order_id, amount_cents=3000))
        second = await self.refund(harness, RefundPayment(order_id=order_id, amount_cents=3000))
        assert first.refund_id is not None
        assert second.refund_id == first.refund_id
        assert len((await self.ledger(harness, redis).snapshot()).refunds_for(order_id)) == 1

    async def test_a_refund_larger_than_the_charge_is_declined(
        self, harness: JobHarness, redis: Redis
    ) -> None:
        order_id = _order()
        await self.charge(harness, order_id, amount_cents=1000)
        reply = await self.answer(
            harness, harness.command(RefundPayment(order_id=order_id, amount_cents=1001))
        )
        assert reply.message_type == RefundFailed.message_type
        assert not RefundFailed.model_validate(reply.payload).retryable
        assert (await self.ledger(harness, redis).snapshot()).refunds_for(order_id) == []

    # -- as a process ------------------------------------------------------------------------

    @pytest.mark.slow
    async def test_when_the_job_is_stopped_with_sigterm_mid_stream_every_order_is_charged_exactly_once(
        self, infra: Any, redis: Redis, tmp_path: Path
    ) -> None:
        settings = self._settings(
            infra, http_host="127.0.0.1", http_port=free_port(), sim_latency_seconds=0.02
        )
        keys = settings.key_ring()
        run = uuid.uuid4().hex[:8]
        commands = [
            command_envelope(
                TEMPLATE,
                ChargePayment(order_id=f"ord-{run}-{i}", amount_cents=1000 + i, card_token="tok_visa"),
                keys,
            )
            for i in range(PROCESS_COMMANDS)
        ]
        try:
            outcome = await restart_mid_stream(
                self.module, TEMPLATE, settings, commands, log_path=tmp_path / "job.log", stop_after=5
            )
            calls = await CallLog(redis, settings.redis_prefix, settings.provider).all()
            snapshot = await PaymentLedger(redis, settings.redis_prefix, settings.provider).snapshot()
        finally:
            await delete_keys(infra.redis_url, settings.redis_prefix)

        assert outcome.exit_codes == (0, 0)
        assert 0 < outcome.replies_before_restart < PROCESS_COMMANDS, "SIGTERM did not land mid-stream"
        assert {saga: len(replies) for saga, replies in outcome.replies.items()} == {
            env.saga_id: 1 for env in commands
        }
        assert {r[0].message_type for r in outcome.replies.values()} == {PaymentCharged.message_type}
        assert calls == {("charge", env.idempotency_key): 1 for env in commands}
        assert snapshot.problems() == []
        assert sorted(c.order_id for c in snapshot.charges) == sorted(
            env.payload["order_id"] for env in commands
        )
