"""The coordinator's write path: load -> pure transition -> one atomic commit -> publish.

Everything that happens to a saga (a reply, a timer, a start, an operator's resume or cancel) goes
through ``Engine.apply``. A lost compare-and-set means another coordinator moved the saga first: the
engine reloads and recomputes, which is safe because ``transition`` is pure and deterministic.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, TracerProvider
from pydantic import BaseModel
from sagaline.contracts.signing import KeyRing
from sagaline.saga.effects import Outgoing, Transition
from sagaline.saga.incoming import Incoming, ReplyReceived, StartSaga
from sagaline.saga.metrics import CONFLICTS, IGNORED, SAGAS, STEP_EVENTS, STEP_LATENCY, TRANSITIONS
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.relay import OutboxRelay
from sagaline.saga.state import SagaState
from sagaline.saga.store import OutboxEntry, SagaStore, Timer
from sagaline.saga.transition import transition

log = logging.getLogger(__name__)

_FINAL_EVENTS = {"completed", "compensated", "failed", "cancelled"}
_STEP_EVENTS = {
    "failover",
    "step_failed",
    "timed_out",
    "retry_scheduled",
    "compensating",
    "compensation_failed",
    "resumed",
    "settling",
}


class ConcurrentUpdateError(RuntimeError):
    """The saga kept changing under us for every retry: something writes it in a loop."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")  # absent when tracing is not configured


class Engine:
    def __init__(
        self,
        registry: WorkflowRegistry,
        store: SagaStore,
        relay: OutboxRelay,
        keyring: KeyRing,
        clock: Callable[[], datetime] = _utcnow,
        cache_size: int = 10_000,
        max_conflicts: int = 20,
        topic_prefix: str = "",
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.relay = relay
        self.keyring = keyring
        self.clock = clock
        self.max_conflicts = max_conflicts
        self.topic_prefix = topic_prefix
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("sagaline.saga")
        self._cache: OrderedDict[str, SagaState] = OrderedDict()
        self._cache_size = cache_size

    async def start(
        self, workflow: str, data: Mapping[str, Any] | BaseModel, saga_id: str, version: str | None = None
    ) -> tuple[SagaState, bool]:
        """Start ``workflow`` (latest version unless given). Returns (saga, created); a saga id that
        already exists returns the stored saga and False, so client retries are harmless."""
        definition = self.registry.get(workflow, version) if version else self.registry.latest(workflow)
        model = self.registry.data_model(definition.name, definition.version)
        if model is not None and not isinstance(data, BaseModel):
            data = model.model_validate(data)
        result = await self.apply(StartSaga(saga_id, data), start_on=(definition.name, definition.version))
        if result.ignored is not None:
            stored = await self.store.load(saga_id)
            assert stored is not None
            return stored, False
        assert result.state is not None
        return result.state, True

    async def apply(self, incoming: Incoming, start_on: tuple[str, str] | None = None) -> Transition:
        saga_id = incoming.saga_id
        kind = type(incoming).__name__
        for attempt in range(self.max_conflicts):
            state = self._cache.get(saga_id)
            # A start is optimistic: the create fails the compare-and-set if the saga exists, and
            # only then is it read, so a new saga costs one Redis round trip, not two.
            if state is None and not (attempt == 0 and isinstance(incoming, StartSaga)):
                state = await self.store.load(saga_id)
            if state is not None:
                definition = self.registry.for_saga(state.workflow, state.workflow_version)
            elif start_on is not None:
                definition = self.registry.for_saga(*start_on)
            else:
                IGNORED.labels(kind).inc()
                return Transition(None, ignored=f"unknown saga {saga_id!r}")
            with self._span(kind, saga_id, state, definition.key) as span:
                now = self.clock()
                result = transition(definition, state, incoming, now)
                if result.ignored is not None:
                    IGNORED.labels(kind).inc()
                    span.set_attribute("ignored", result.ignored)
                    log.info("ignored %s for saga %s: %s", kind, saga_id, result.ignored)
                    return result
                assert result.state is not None
                after = result.state
                if state is None:  # the saga's root: this span; everything later hangs under it
                    after = after.model_copy(update={"trace_parent": _traceparent()})
                    result = replace(result, state=after)
                entries = [self._entry(out) for out in result.outgoing]
                timer = None
                if result.timers:
                    last = result.timers[-1]
                    timer = Timer(last.saga_id, last.due_at, last.token)
                if await self.store.commit(state, after, entries, timer, now):
                    self._remember(after)
                    TRANSITIONS.labels(kind).inc()
                    self._count(result)
                    if state is not None and isinstance(incoming, ReplyReceived):
                        self._observe_step_latency(state, now)
                    span.set_attribute("status", after.status.value)
                    if after.status.terminal or after.status.value == "failed":
                        self._final_span(after)
                    await self.relay.publish(entries)
                    return result
                CONFLICTS.inc()
                span.set_attribute("cas_conflict", True)
                self._cache.pop(saga_id, None)
        raise ConcurrentUpdateError(
            f"saga {saga_id}: {self.max_conflicts} compare-and-set conflicts in a row"
        )

    @contextmanager
    def _span(self, kind: str, saga_id: str, state: SagaState | None, workflow: str) -> Iterator[Span]:
        """A span per handled input. With no incoming trace (timers, operator calls) its parent is
        the saga's root span, so every span of a saga lands in one trace."""
        parent = None
        if not trace.get_current_span().get_span_context().is_valid and state and state.trace_parent:
            parent = propagate.extract({"traceparent": state.trace_parent})
        name = f"saga {workflow}" if state is None else f"handle {kind}"
        attributes = {"saga_id": saga_id, "workflow": workflow, "incoming": kind}
        with self.tracer.start_as_current_span(name, context=parent, attributes=attributes) as span:
            yield span

    def _final_span(self, state: SagaState) -> None:
        with self.tracer.start_as_current_span(
            f"saga {state.status.value}",
            attributes={
                "saga_id": state.saga_id,
                "workflow": f"{state.workflow}@{state.workflow_version}",
                "duration_ms": int((state.updated_at - state.created_at).total_seconds() * 1000),
            },
        ):
            pass

    def forget(self, saga_id: str) -> None:
        self._cache.pop(saga_id, None)

    def _entry(self, out: Outgoing) -> OutboxEntry:
        envelope = self.keyring.sign(out.envelope)
        attributes: dict[str, str | int] = {
            "saga_id": envelope.saga_id,
            "workflow": f"{envelope.workflow}@{envelope.workflow_version}",
            "step": envelope.step,
            "attempt": envelope.attempt,
            "provider": envelope.provider,
            "messaging.destination.name": out.topic,
        }
        headers: dict[str, str] = {}
        with self.tracer.start_as_current_span(
            f"send {envelope.step}", kind=SpanKind.PRODUCER, attributes=attributes
        ):
            propagate.inject(headers)
        return OutboxEntry(
            entry_id=envelope.message_id,
            topic=self.topic_prefix + out.topic,
            key=out.key,
            value=envelope.to_bytes(),
            headers=tuple((k, v.encode()) for k, v in headers.items()),
        )

    def _remember(self, state: SagaState) -> None:
        self._cache[state.saga_id] = state
        self._cache.move_to_end(state.saga_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    @staticmethod
    def _observe_step_latency(before: SagaState, now: datetime) -> None:
        """Send-to-reply time of the command a reply answered (from the saga's own history)."""
        pending = before.pending
        if pending is None:
            return
        sent = next(
            (h.at for h in reversed(before.history) if h.event == "command_sent" and h.step == pending.step),
            None,
        )
        if sent is not None:
            STEP_LATENCY.labels(before.workflow, pending.step).observe((now - sent).total_seconds())

    @staticmethod
    def _count(result: Transition) -> None:
        assert result.state is not None
        workflow = result.state.workflow
        for event in result.events:
            if event in _FINAL_EVENTS or event == "started":
                SAGAS.labels(workflow, event).inc()
            elif event in _STEP_EVENTS:
                STEP_EVENTS.labels(workflow, event).inc()
