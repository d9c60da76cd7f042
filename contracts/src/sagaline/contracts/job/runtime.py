"""The generic command flow every derived job shares, independent of the Kafka client.

admit (decode, verify signature, check contract and message type, validate payload)
-> claim the idempotency key -> call the hook with retries -> store the outcome
-> publish the signed reply. Poison input is published to the DLQ instead. The caller commits the
offset only after ``process`` returns; if it raises (Redis or Kafka failed), nothing was lost and
the record must be consumed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from pydantic import ValidationError
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.context import JobContext
from sagaline.contracts.job.dedupe import (
    Acquired,
    Busy,
    Claim,
    Completed,
    IdempotencyStore,
    OutcomeKind,
    StoredOutcome,
)
from sagaline.contracts.job.dlq import DlqReason, Rejected, Source, describe_validation_error, dlq_headers
from sagaline.contracts.job.errors import Declined, TransientError
from sagaline.contracts.job.metrics import JobMetrics
from sagaline.contracts.job.telemetry import log_context
from sagaline.contracts.job.topology import JobTopics
from sagaline.contracts.messages import Command, Reply
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.signing import KeyRing, SignatureError
from sagaline.contracts.template import Operation
from sagaline.contracts.versioning import accepts

Publish = Callable[[bytes, str, bytes | None, Mapping[str, str]], Awaitable[None]]
"""``publish(body, topic, key, headers)``: returns once the broker acknowledged the record."""

# Reply ids are derived from the command id, so a redelivered command yields a byte-identical
# reply that downstream de-duplication recognises.
_REPLY_NAMESPACE = uuid.UUID("5f0c1a52-8d7e-4c1b-9a47-2b8f4f6c9e11")
_LEASE_MARGIN_SECONDS = 5.0
_MAX_BUSY_POLL_SECONDS = 0.2


class Disposition(StrEnum):
    REPLIED = "replied"
    REPLAYED = "replayed"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True, slots=True)
class _Admitted:
    envelope: Envelope
    operation: Operation
    command: Command


class JobRuntime:
    """Handles one raw record at a time; safe to call concurrently."""

    def __init__(
        self,
        job: TemplateJob,
        *,
        store: IdempotencyStore,
        publish: Publish,
        topics: JobTopics,
        metrics: JobMetrics,
        key_ring: KeyRing,
    ) -> None:
        settings = job.settings
        template = job.template
        unknown = set(settings.retry) - set(template.operations)
        if unknown:
            raise ValueError(f"retry overrides for unknown {template.name} operations: {sorted(unknown)}")
        self._job = job
        self._template = template
        self._store = store
        self._publish = publish
        self._topics = topics
        self._metrics = metrics
        self._keys = key_ring
        self._job_name = settings.job_name
        self._provider = settings.provider
        self._dedupe_prefix = f"{settings.redis_prefix}{settings.job_name}:idem:"
        self._dedupe_ttl = settings.dedupe_ttl_seconds
        self._by_message_type = {op.command.message_type: op for op in template.operations.values()}
        self._hooks = {op.name: job.hook(op) for op in template.operations.values()}
        self._policies: dict[str, RetryPolicy] = {
            op.name: settings.retry[op.name].apply(op.retry) if op.name in settings.retry else op.retry
            for op in template.operations.values()
        }
        # A lease outlives the longest the hook may take with all its retries, so a live owner
        # never loses it; a crashed owner's lease lapses after that long.
        self._leases = {
            name: policy.max_attempts * template.operations[name].timeout
            + sum(policy.delay(n) for n in range(1, policy.max_attempts))
            + _LEASE_MARGIN_SECONDS
            for name, policy in self._policies.items()
        }

    def retry_policy(self, operation: str) -> RetryPolicy:
        return self._policies[operation]

    async def process(self, raw: bytes, source: Source) -> Disposition:
        try:
            admitted = self._admit(raw)
        except Rejected as rejected:
            await self._dead_letter(raw, source, rejected)
            return Disposition.DEAD_LETTERED
        env = admitted.envelope
        # The command's span is the consumer span of FastStream's telemetry middleware (its parent
        # is the sender's span, from the traceparent header): it gets the saga's attributes.
        span = trace.get_current_span()
        span.set_attributes(
            {
                "saga_id": env.saga_id,
                "step": env.step,
                "attempt": env.attempt,
                "provider": self._provider,
                "workflow": env.workflow,
                "workflow_version": env.workflow_version,
                "sagaline.operation": f"{self._template.name}.{admitted.operation.name}",
                "idempotency_key": env.idempotency_key,
            }
        )
        with log_context(saga_id=env.saga_id, step=env.step, attempt=env.attempt):
            return await self._execute(admitted, raw, source, span)

    # -- admission ---------------------------------------------------------------------------

    def _admit(self, raw: bytes) -> _Admitted:
        try:
            env = Envelope.from_bytes(raw)
        except ValidationError as exc:
            raise Rejected(DlqReason.UNDECODABLE, describe_validation_error(exc)) from None
        except (ValueError, TypeError, RecursionError) as exc:
            raise Rejected(DlqReason.UNDECODABLE, type(exc).__name__) from None
        if env.kind is not Kind.COMMAND:
            raise Rejected(DlqReason.NOT_A_COMMAND, f"kind is {env.kind.value!r}")
        try:
            self._keys.verify(env)
        except SignatureError as exc:
            raise Rejected(DlqReason.BAD_SIGNATURE, str(exc)) from None
        if env.template_name != self._template.name:
            raise Rejected(
                DlqReason.WRONG_TEMPLATE, f"contract {env.contract} is not for template {self._template.name}"
            )
        if not _accepts(self._template.version, env.contract_version):
            raise Rejected(
                DlqReason.UNSUPPORTED_VERSION,
                f"contract {env.contract}; this job accepts {self._template.name}@{self._template.major}.x",
            )
        op = self._by_message_type.get(env.message_type)
        if op is None:
            raise Rejected(
                DlqReason.UNKNOWN_MESSAGE_TYPE,
                f"{env.message_type!r} is not a command of {self._template.name}",
            )
        try:
            command = op.command.model_validate(env.payload)
        except ValidationError as exc:
            raise Rejected(DlqReason.INVALID_PAYLOAD, describe_validation_error(exc)) from None
        return _Admitted(env, op, command)

    async def _dead_letter(self, raw: bytes, source: Source, rejected: Rejected) -> None:
        span = trace.get_current_span()
        span.set_attribute("sagaline.dlq_reason", rejected.reason.value)
        span.set_status(Status(StatusCode.ERROR, rejected.reason.value))
        headers = dlq_headers(rejected.reason, rejected.detail, source, self._job_name)
        await self._publish(raw, self._topics.dlq, source.key, headers)
        self._metrics.dead_lettered(rejected.reason.value)
        self._job.log.warning(
            "dead-lettered %s/%d@%d: %s",
            source.topic,
            source.partition,
            source.offset,
            rejected,
            extra={"dlq_reason": rejected.reason.value},
        )

    # -- execution ---------------------------------------------------------------------------

    async def _execute(self, admitted: _Admitted, raw: bytes, source: Source, span: Span) -> Disposition:
        started = time.perf_counter()
        env, op = admitted.envelope, admitted.operation
        key = f"{self._dedupe_prefix}{op.command.message_type}:{env.idempotency_key}"
        claim = await self._claim(key, op, env.attempt)
        replayed = isinstance(claim, Completed)
        if isinstance(claim, Completed):
            outcome = claim.outcome
        else:
            try:
                outcome = await self._call_with_retries(admitted, span)
            except Rejected as rejected:
                await self._store.release(key, claim.token)
                span.set_status(Status(StatusCode.ERROR, rejected.reason.value))
                await self._dead_letter(raw, source, rejected)
                return Disposition.DEAD_LETTERED
            except asyncio.CancelledError:
                # Shutdown gave up waiting: free the key now rather than when the lease expires
                # (best effort: if Redis fails too, the lease simply runs out).
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._store.release(key, claim.token))
                raise
            outcome = await self._store.complete(key, outcome, self._dedupe_ttl, env.attempt)
        reply = self._reply(env, outcome)
        await self._publish(reply.to_bytes(), self._topics.events, env.saga_id.encode(), {})
        span.set_attribute("sagaline.outcome", outcome.kind.value)
        span.set_attribute("sagaline.replayed", replayed)
        self._metrics.command_answered(
            op.name, outcome.kind.value, replayed=replayed, seconds=time.perf_counter() - started
        )
        self._job.log.info(
            "%s %s -> %s%s",
            op.name,
            env.message_id,
            outcome.message_type,
            " (replayed)" if replayed else "",
        )
        return Disposition.REPLAYED if replayed else Disposition.REPLIED

    async def _claim(self, key: str, op: Operation, attempt: int) -> Acquired | Completed:
        token = uuid.uuid4().hex
        lease_seconds = self._leases[op.name]
        poll = 0.01
        waited = False
        while True:
            claim: Claim = await self._store.acquire(key, token, lease_seconds, attempt)
            if not isinstance(claim, Busy):
                if waited:
                    self._metrics.duplicate_waited(op.name)
                return claim
            waited = True
            # A duplicate is being handled right now: wait for its outcome (or its lease to lapse).
            await asyncio.sleep(min(poll, max(claim.retry_after, 0.001)))
            poll = min(poll * 2, _MAX_BUSY_POLL_SECONDS)

    async def _call_with_retries(self, admitted: _Admitted, span: Span) -> StoredOutcome:
        env, op, command = admitted.envelope, admitted.operation, admitted.command
        hook = self._hooks[op.name]
        policy = self._policies[op.name]
        last_error: BaseException | None = None
        for call_attempt in range(1, policy.max_attempts + 1):
            ctx = JobContext(
                saga_id=env.saga_id,
                step=env.step,
                attempt=env.attempt,
                idempotency_key=env.idempotency_key,
                workflow=env.workflow,
                workflow_version=env.workflow_version,
                message_id=env.message_id,
                provider=self._provider,
                operation=op.name,
                call_attempt=call_attempt,
                log=self._job.log,
            )
            try:
                async with asyncio.timeout(op.timeout):
                    result = await hook(command, ctx)
            except Declined as declined:
                self._metrics.provider_called(op.name, "declined")
                return self._declined(op, declined)
            except (TransientError, TimeoutError) as exc:
                self._metrics.provider_called(op.name, "transient")
                last_error = exc
                reason = _transient_reason(exc, op)
                span.add_event("provider call failed", {"call_attempt": call_attempt, "error": reason})
                self._job.log.warning(
                    "%s call %d/%d failed transiently: %s", op.name, call_attempt, policy.max_attempts, reason
                )
            except Exception as exc:
                self._metrics.provider_called(op.name, "error")
                last_error = exc
                span.record_exception(exc, attributes={"call_attempt": call_attempt})
                self._job.log.exception("%s call %d/%d raised", op.name, call_attempt, policy.max_attempts)
            else:
                self._metrics.provider_called(op.name, "ok")
                return self._succeeded(op, result)
            if call_attempt < policy.max_attempts:
                await asyncio.sleep(policy.delay(call_attempt))
        if isinstance(last_error, TransientError | TimeoutError):
            failure = op.retryable_failure(reason=_transient_reason(last_error, op), retryable=True)
            return _outcome(OutcomeKind.RETRYABLE_FAILURE, failure)
        raise Rejected(
            DlqReason.HANDLER_ERROR,
            f"{op.name} raised {type(last_error).__name__} on all {policy.max_attempts} attempts",
        )

    @staticmethod
    def _succeeded(op: Operation, result: object) -> StoredOutcome:
        if not isinstance(result, op.success):
            raise Rejected(
                DlqReason.CONTRACT_VIOLATION,
                f"{op.name} returned {type(result).__name__}, expected {op.success.__name__}",
            )
        return _outcome(OutcomeKind.SUCCESS, result)

    @staticmethod
    def _declined(op: Operation, declined: Declined) -> StoredOutcome:
        if not isinstance(declined.reply, op.failure):
            allowed = ", ".join(f.__name__ for f in op.failure)
            raise Rejected(
                DlqReason.CONTRACT_VIOLATION,
                f"{op.name} declined with {type(declined.reply).__name__}, expected one of {allowed}",
            )
        return _outcome(OutcomeKind.DECLINED, declined.reply)

    def _reply(self, command: Envelope, outcome: StoredOutcome) -> Envelope:
        # model_construct: every field comes from a validated envelope or outcome.
        reply = Envelope.model_construct(
            message_id=str(uuid.uuid5(_REPLY_NAMESPACE, command.message_id)),
            message_type=outcome.message_type,
            saga_id=command.saga_id,
            workflow=command.workflow,
            workflow_version=command.workflow_version,
            step=command.step,
            attempt=command.attempt,
            kind=Kind.EVENT,
            contract=self._template.contract,
            provider=self._provider,
            idempotency_key=command.idempotency_key,
            causation_id=command.message_id,
            occurred_at=outcome.occurred_at,
            payload=outcome.payload,
            key_id="",
            signature="",
        )
        return self._keys.sign(reply)


# Contract versions on the wire are few; parsing two semvers per message is not free.
@functools.lru_cache(maxsize=256)
def _accepts(consumer_version: str, message_version: str) -> bool:
    return accepts(consumer_version, message_version)


def _outcome(kind: OutcomeKind, reply: Reply) -> StoredOutcome:
    return StoredOutcome(
        kind=kind,
        message_type=reply.message_type,
        payload=reply.model_dump(mode="json"),
        occurred_at=datetime.now(UTC),
    )


def _transient_reason(exc: BaseException, op: Operation) -> str:
    if isinstance(exc, TimeoutError) and not str(exc):
        return f"no answer within {op.timeout}s"
    return str(exc) or type(exc).__name__
