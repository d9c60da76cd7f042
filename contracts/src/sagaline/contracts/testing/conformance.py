"""``JobConformance``: the pytest suite every derived job runs against the real Kafka and Redis.

In a derived job's ``tests/``::

    class TestStripeConformance(JobConformance):
        job_class = StripeJob
        settings_class = StripeSettings

        async def make_command(self, operation: str, unique: str) -> Command:
            if operation == "charge":
                return ChargePayment(order_id=unique, amount_cents=1000, card_token="tok_ok")
            return RefundPayment(order_id=unique, amount_cents=1000)

        async def declining_command(self, operation: str, unique: str) -> Command | None:
            if operation == "charge":
                return ChargePayment(order_id=unique, amount_cents=1000, card_token="tok_decline")
            return None

The job runs in the test process (one instance per test class) on topics, a consumer group and
Redis keys of its own, so suites run side by side on one shared stack.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.messages import Command
from sagaline.contracts.template import Operation
from sagaline.contracts.testing import checks
from sagaline.contracts.testing.envelopes import BAD_INPUTS, BadInput
from sagaline.contracts.testing.harness import JobHarness

_FAST_RETRY = {"initial_interval": 0.01, "max_interval": 0.05}


def kit_settings(
    settings_class: Callable[..., JobSettings],
    *,
    kafka_bootstrap: str,
    redis_url: str,
    operations: list[str],
    **overrides: Any,
) -> JobSettings:
    """Settings that isolate one job run: unique topics, group, Redis prefix and signing key."""
    run = uuid.uuid4().hex[:12]
    fields: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap,
        "redis_url": redis_url,
        "topic_prefix": f"kit.{run}.",
        "redis_prefix": f"kit:{run}:",
        "signing_keys": f"kit-{run}:{secrets.token_hex(16)}",
        "concurrency": 2,
        "command_partitions": 2,
        "otlp_endpoint": None,
        "http_port": 0,
        "dedupe_ttl_seconds": 600,
        "shutdown_grace_seconds": 10.0,
        "retry": dict.fromkeys(operations, _FAST_RETRY),
    }
    fields.update(overrides)
    return settings_class(**fields)


async def delete_keys(redis_url: str, prefix: str) -> None:
    """Remove what a run left in the shared Redis (never FLUSHDB: others use it too)."""
    client = Redis.from_url(redis_url)
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                await client.delete(*batch)
                batch.clear()
        if batch:
            await client.delete(*batch)
    finally:
        await client.aclose()


class JobConformance:
    """Subclass as ``Test<Job>Conformance`` and set/override the members marked *provide*."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [
        pytest.mark.integration,
        pytest.mark.asyncio(loop_scope="session"),
    ]

    job_class: ClassVar[Callable[..., TemplateJob]]
    """*Provide*: the derived job class."""
    settings_class: ClassVar[Callable[..., JobSettings]]
    """*Provide*: its settings class (job_name and provider defaults set)."""

    async def make_command(self, operation: str, unique: str) -> Command:
        """*Provide*: a command of ``operation`` the provider accepts; ``unique`` is fresh per call
        (use it as the order id). Seed any state the command needs (stock, ...) here."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_command")

    async def declining_command(self, operation: str, unique: str) -> Command | None:
        """*Provide if any*: a command of ``operation`` the provider declines (None: no such case)."""
        return None

    def settings_overrides(self) -> dict[str, Any]:
        """*Optional*: extra settings for the run (provider simulator options, ...)."""
        return {}

    def build_job(self, settings: JobSettings) -> TemplateJob:
        """*Optional*: how to build the job from settings (default ``job_class(settings)``)."""
        return self.job_class(settings)

    # -- fixtures ----------------------------------------------------------------------------

    @pytest_asyncio.fixture(scope="class", loop_scope="session")
    @classmethod
    async def harness(cls, request: pytest.FixtureRequest) -> AsyncIterator[JobHarness]:
        # One job per test class; the hooks a subclass overrides are instance methods.
        suite = cls()
        kafka, redis_url = _endpoints(request)
        template = cls.job_class.template  # type: ignore[attr-defined]
        settings = kit_settings(
            cls.settings_class,
            kafka_bootstrap=kafka,
            redis_url=redis_url,
            operations=list(template.operations),
            **suite.settings_overrides(),
        )
        try:
            async with JobHarness.running(suite.build_job(settings)) as harness:
                yield harness
        finally:
            await delete_keys(redis_url, settings.redis_prefix)

    @pytest.fixture(autouse=True)
    def _reset_spy(self, harness: JobHarness) -> None:
        harness.spy.reset()

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _operations(harness: JobHarness, *, compensation: bool) -> list[Operation]:
        ops = harness.app.job.template.operations.values()
        return [op for op in ops if op.is_compensation == compensation]

    async def _command(self, operation: str) -> Command:
        return await self.make_command(operation, f"kit-{uuid.uuid4().hex[:12]}")

    # -- the suite ---------------------------------------------------------------------------

    async def test_every_operation_answers_a_valid_command_with_its_success_reply(
        self, harness: JobHarness
    ) -> None:
        for op in harness.app.job.template.operations.values():
            await checks.check_success(harness, op.name, await self._command(op.name))

    async def test_a_command_of_a_later_minor_of_the_same_major_is_handled(self, harness: JobHarness) -> None:
        op = self._operations(harness, compensation=False)[0]
        await checks.check_other_minor_and_patch_are_handled(harness, op.name, await self._command(op.name))

    async def test_a_duplicate_command_is_replayed_without_calling_the_provider_again(
        self, harness: JobHarness
    ) -> None:
        for op in harness.app.job.template.operations.values():
            await checks.check_duplicate_is_replayed(harness, op.name, await self._command(op.name))

    async def test_a_retried_attempt_gets_the_stored_outcome_for_its_own_attempt(
        self, harness: JobHarness
    ) -> None:
        op = self._operations(harness, compensation=False)[0]
        await checks.check_retried_attempt_gets_stored_outcome(harness, op.name, await self._command(op.name))

    async def test_concurrent_duplicates_call_the_provider_once(self, harness: JobHarness) -> None:
        op = self._operations(harness, compensation=False)[0]
        await checks.check_concurrent_duplicates_call_once(harness, op.name, await self._command(op.name))

    async def test_a_declined_command_gets_a_typed_failure_reply(self, harness: JobHarness) -> None:
        declined = 0
        for op in harness.app.job.template.operations.values():
            command = await self.declining_command(op.name, f"kit-{uuid.uuid4().hex[:12]}")
            if command is not None:
                await checks.check_declined(harness, op.name, command)
                declined += 1
        if not declined:
            pytest.skip(f"{type(self).__name__} gives no declining_command")

    async def test_a_transient_error_is_retried_then_succeeds(self, harness: JobHarness) -> None:
        op = self._operations(harness, compensation=False)[0]
        await checks.check_transient_error_is_retried(harness, op.name, await self._command(op.name))

    async def test_transient_errors_outlasting_the_retries_give_a_retryable_failure(
        self, harness: JobHarness
    ) -> None:
        for op in harness.app.job.template.operations.values():
            await checks.check_transient_errors_end_retryable(harness, op.name, await self._command(op.name))

    async def test_the_next_attempt_after_a_retryable_failure_calls_the_provider_again(
        self, harness: JobHarness
    ) -> None:
        for op in harness.app.job.template.operations.values():
            await checks.check_next_attempt_after_retryable_failure_calls_again(
                harness, op.name, await self._command(op.name)
            )

    async def test_compensating_a_step_that_never_ran_succeeds(self, harness: JobHarness) -> None:
        compensations = self._operations(harness, compensation=True)
        if not compensations:
            pytest.skip(f"{harness.app.job.template.name} has no compensation")
        for op in compensations:
            await checks.check_compensation_of_step_that_never_ran(
                harness, op.name, await self._command(op.name)
            )

    @pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.name)
    async def test_bad_input_is_dead_lettered_and_the_job_keeps_consuming(
        self, harness: JobHarness, bad: BadInput
    ) -> None:
        op = self._operations(harness, compensation=False)[0]
        await checks.check_dead_letter(harness, bad, await self._command(op.name))


def _endpoints(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Kafka bootstrap and Redis URL from the project's ``infra`` fixture, else the environment."""
    try:
        infra = request.getfixturevalue("infra")
    except pytest.FixtureLookupError:
        return (
            os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            os.environ.get("SAGALINE_REDIS_URL", "redis://127.0.0.1:6379/0"),
        )
    return infra.kafka_bootstrap, infra.redis_url
