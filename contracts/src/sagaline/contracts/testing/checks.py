"""The conformance checks, as plain async functions over a running ``JobHarness``.

Each raises ``AssertionError`` naming what the job got wrong. ``JobConformance`` runs them as
pytest tests; they are separate functions so the kit's own tests can prove each one fails on a
job that breaks its rule.
"""

from __future__ import annotations

import uuid
from typing import Any

import semver
from aiokafka import ConsumerRecord
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.job.dlq import (
    REASON_HEADER,
    SOURCE_OFFSET_HEADER,
    SOURCE_PARTITION_HEADER,
    SOURCE_TOPIC_HEADER,
)
from sagaline.contracts.job.errors import TransientError
from sagaline.contracts.messages import Command
from sagaline.contracts.signing import SignatureError
from sagaline.contracts.testing.envelopes import BadInput
from sagaline.contracts.testing.harness import JobHarness, wait_until

_CONCURRENT_CALL_SECONDS = 0.5


def reply_to(harness: JobHarness, record: ConsumerRecord[bytes, bytes], command: Envelope) -> Envelope:
    """Parse a reply record and check it answers ``command`` as the template says."""
    assert record.value is not None, "reply record has no value"
    reply = Envelope.from_bytes(record.value)
    try:
        harness.key_ring.verify(reply)
    except SignatureError as exc:
        raise AssertionError(f"reply is not signed with the job's key ring: {exc}") from None
    settings, template = harness.app.settings, harness.app.job.template
    expected = {
        "kind": Kind.EVENT,
        "causation_id": command.message_id,
        "saga_id": command.saga_id,
        "step": command.step,
        "attempt": command.attempt,
        "idempotency_key": command.idempotency_key,
        "workflow": command.workflow,
        "workflow_version": command.workflow_version,
        "provider": settings.provider,
        "contract": template.contract,
    }
    actual = {name: getattr(reply, name) for name in expected}
    assert actual == expected, f"reply envelope fields differ: expected {expected}, got {actual}"
    assert record.key == command.saga_id.encode(), f"reply keyed {record.key!r}, not by saga id"
    return reply


async def check_success(harness: JobHarness, operation: str, command: Command, **fields: Any) -> Envelope:
    """A valid command is answered once with the operation's success reply; one provider call.
    ``fields`` override envelope fields of the command (e.g. its ``contract``)."""
    op = harness.app.job.template.operation(operation)
    env = harness.command(command, **fields)
    await harness.send(env)
    [record] = await harness.replies(env.saga_id)
    reply = reply_to(harness, record, env)
    assert reply.message_type == op.success.message_type, (
        f"{operation}: expected {op.success.message_type}, got {reply.message_type} {reply.payload}"
    )
    op.success.model_validate(reply.payload)
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == 1, f"{operation}: provider called {calls} times"
    return reply


async def check_other_minor_and_patch_are_handled(
    harness: JobHarness, operation: str, command: Command
) -> None:
    """A command of a later minor/patch of the template's major (a newer sender) is handled."""
    template = harness.app.job.template
    newer = semver.Version.parse(template.version).bump_minor().bump_patch()
    await check_success(harness, operation, command, contract=f"{template.name}@{newer}")


async def check_duplicate_is_replayed(harness: JobHarness, operation: str, command: Command) -> None:
    """The same record twice: the same reply twice, byte for byte, and one provider call."""
    env = harness.command(command)
    await harness.send(env)
    await harness.send(env)
    first, second = await harness.replies(env.saga_id, 2)
    reply_to(harness, first, env)
    assert first.value == second.value, "a duplicate command got a different reply"
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == 1, f"{operation}: a duplicate command called the provider again ({calls} calls)"


async def check_retried_attempt_gets_stored_outcome(
    harness: JobHarness, operation: str, command: Command
) -> None:
    """A coordinator retry (same idempotency key, attempt+1) replays the outcome for attempt 2."""
    env = harness.command(command)
    await harness.send(env)
    [first] = await harness.replies(env.saga_id)
    retry = harness.command(command, saga_id=env.saga_id, idempotency_key=env.idempotency_key, attempt=2)
    await harness.send(retry)
    _, second = await harness.replies(env.saga_id, 2)
    first_reply, second_reply = reply_to(harness, first, env), reply_to(harness, second, retry)
    assert (second_reply.message_type, second_reply.payload) == (
        first_reply.message_type,
        first_reply.payload,
    )
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == 1, f"{operation}: a retried attempt called the provider again ({calls} calls)"


async def check_concurrent_duplicates_call_once(
    harness: JobHarness, operation: str, command: Command
) -> None:
    """The same command on two partitions at once: both answered, the provider called once."""
    settings = harness.app.settings
    assert settings.concurrency >= 2, "needs at least 2 workers"
    assert settings.command_partitions >= 2, "needs at least 2 partitions"
    await harness.wait_assigned()
    waits_before = harness.duplicate_waits(operation)
    env = harness.command(command)
    harness.spy.delay(operation, _CONCURRENT_CALL_SECONDS)
    try:
        await harness.send(env, partition=0)
        await harness.send(env, partition=1)
        first, second = await harness.replies(env.saga_id, 2)
    finally:
        harness.spy.delay(operation, 0)
    assert reply_to(harness, first, env).payload == reply_to(harness, second, env).payload
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == 1, f"{operation}: concurrent duplicates called the provider {calls} times"
    assert harness.duplicate_waits(operation) == waits_before + 1, "the duplicates were not handled at once"


async def check_declined(harness: JobHarness, operation: str, command: Command) -> None:
    """A declined command gets one of the operation's typed failure replies (and replays it)."""
    op = harness.app.job.template.operation(operation)
    env = harness.command(command)
    await harness.send(env)
    await harness.send(env)
    first, second = await harness.replies(env.saga_id, 2)
    reply = reply_to(harness, first, env)
    failures = {f.message_type: f for f in op.failure}
    assert reply.message_type in failures, f"{operation}: expected one of {sorted(failures)}, got {reply}"
    failures[reply.message_type].model_validate(reply.payload)
    assert first.value == second.value, "a duplicate of a declined command got a different reply"
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == 1, f"{operation}: provider called {calls} times"


def _fail_every_attempt(harness: JobHarness, operation: str) -> int:
    """Make the provider fail transiently on each call the retry policy allows; returns how many."""
    attempts = harness.app.runtime.retry_policy(operation).max_attempts
    harness.spy.fail(operation, *(TransientError("kit: provider unavailable") for _ in range(attempts)))
    return attempts


async def check_transient_errors_end_retryable(harness: JobHarness, operation: str, command: Command) -> None:
    """Transient errors on every attempt: the generic failure with ``retryable=True``."""
    op = harness.app.job.template.operation(operation)
    attempts = _fail_every_attempt(harness, operation)
    env = harness.command(command)
    await harness.send(env)
    [record] = await harness.replies(env.saga_id)
    reply = reply_to(harness, record, env)
    assert reply.message_type == op.retryable_failure.message_type, f"{operation}: got {reply.message_type}"
    assert op.retryable_failure.model_validate(reply.payload).retryable, "failure not marked retryable"
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == attempts, f"{operation}: {calls} calls for a retry policy of {attempts} attempts"


async def check_next_attempt_after_retryable_failure_calls_again(
    harness: JobHarness, operation: str, command: Command
) -> None:
    """A retryable failure is replayed to its own attempt only: the coordinator's next attempt (same
    idempotency key, attempt+1) calls the provider again and gets the success."""
    op = harness.app.job.template.operation(operation)
    attempts = _fail_every_attempt(harness, operation)
    env = harness.command(command)
    await harness.send(env)
    [failed] = await harness.replies(env.saga_id)
    retry = harness.command(command, saga_id=env.saga_id, idempotency_key=env.idempotency_key, attempt=2)
    await harness.send(retry)
    _, answered = await harness.replies(env.saga_id, 2)
    assert reply_to(harness, failed, env).message_type == op.retryable_failure.message_type
    reply = reply_to(harness, answered, retry)
    assert reply.message_type == op.success.message_type, (
        f"{operation}: attempt 2 after a retryable failure got {reply.message_type}; "
        "the failure of attempt 1 was replayed instead of calling the provider again"
    )
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == attempts + 1, f"{operation}: {calls} calls, expected {attempts} failed and 1 more"


async def check_transient_error_is_retried(harness: JobHarness, operation: str, command: Command) -> None:
    """One transient error, then the provider answers: success after exactly two calls."""
    op = harness.app.job.template.operation(operation)
    env = harness.command(command)
    harness.spy.fail(operation, TransientError("kit: one blip"))
    await harness.send(env)
    [record] = await harness.replies(env.saga_id)
    reply = reply_to(harness, record, env)
    assert reply.message_type == op.success.message_type, f"{operation}: got {reply.message_type}"
    calls = harness.spy.calls(operation, env.idempotency_key)
    assert calls == 2, f"{operation}: {calls} calls, expected a failed one and a successful one"


async def check_compensation_of_step_that_never_ran(
    harness: JobHarness, compensation: str, command: Command
) -> None:
    """Undoing a step that never happened succeeds (and a duplicate of it is replayed)."""
    op = harness.app.job.template.operation(compensation)
    assert op.is_compensation, f"{compensation} is not a compensation"
    env = harness.command(command)
    await harness.send(env)
    await harness.send(env)
    first, second = await harness.replies(env.saga_id, 2)
    reply = reply_to(harness, first, env)
    assert reply.message_type == op.success.message_type, (
        f"{compensation} of a step that never ran must succeed, got {reply.message_type} {reply.payload}"
    )
    assert first.value == second.value, "a duplicate compensation got a different reply"
    calls = harness.spy.calls(compensation, env.idempotency_key)
    assert calls == 1, f"{compensation}: provider called {calls} times"


async def check_dead_letter(harness: JobHarness, bad: BadInput, valid: Command) -> None:
    """Bad input lands in the DLQ as sent, with reason and source; the job keeps consuming."""
    template = harness.app.job.template
    raw = bad.build(template, valid, harness.key_ring)
    key = f"kit-bad-{uuid.uuid4()}".encode()
    counted = harness.dead_letter_count(bad.reason.value)
    calls = harness.spy.total_calls()
    sent = await harness.send(raw, key=key)
    [letter] = await harness.dead_letters(key)
    assert letter.value == raw, "the DLQ record is not the original bytes"
    headers = {name: value.decode() for name, value in letter.headers}
    expected = {
        REASON_HEADER: bad.reason.value,
        SOURCE_TOPIC_HEADER: sent.topic,
        SOURCE_PARTITION_HEADER: str(sent.partition),
        SOURCE_OFFSET_HEADER: str(sent.offset),
    }
    actual = {name: headers.get(name) for name in expected}
    assert actual == expected, f"{bad.name}: DLQ headers {actual}, expected {expected}"
    await wait_until(
        lambda: harness.dead_letter_count(bad.reason.value) == counted + 1,
        5.0,
        f"the DLQ counter for {bad.reason.value} to go up",
    )
    assert harness.spy.total_calls() == calls, f"{bad.name}: bad input reached the provider"
    # Same key, so same partition: the record after the poison one is still consumed.
    after = harness.command(valid, saga_id=key.decode())
    await harness.send(after)
    [record] = await harness.replies(after.saga_id)
    reply_to(harness, record, after)
