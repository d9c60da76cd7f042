"""Test a saga definition with no broker, no Redis and no waiting: given / when / expect.

This is how to test your own workflows. The scenario drives the pure ``transition`` function,
plays the derived jobs (you hand it their replies) and a virtual clock (timers fire when you
advance it), and checks the commands the saga sends, one by one, in order::

    from sagaline.contracts.templates.inventory import StockReleased, StockReserved
    from sagaline.contracts.templates.payment_gateway import PaymentDeclined
    from sagaline.saga.testing import given
    from sagaline.saga.workflows import OrderData, order_processing_workflow


    def test_when_payment_declined_inventory_is_released(order: OrderData) -> None:
        (
            given(order_processing_workflow, order)
            .expect_command("reserve_inventory", to="reservation")
            .when_reply(StockReserved(order_id=order.order_id, reservation_id="r-1"))
            .expect_command("charge_payment", to="stripe")
            .when_reply(PaymentDeclined(reason="card declined"))
            .expect_compensation("release_inventory", to="reservation")
            .when_reply(StockReleased(order_id=order.order_id, released=True))
            .expect_state("compensated")
        )

``when_reply`` answers the latest command sent; ``when_timeout`` lets the pending command's
deadline pass (and any retry backoff after it); ``advance(seconds)`` moves the clock and fires
whatever falls due. A failed expectation raises ``AssertionError`` saying what was expected,
what the saga sent instead, and where it stands.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from pydantic import BaseModel
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.messages import Reply
from sagaline.saga.definition import WorkflowDefinition
from sagaline.saga.effects import Outgoing, TimerRequest, Transition
from sagaline.saga.incoming import CancelSaga, Incoming, ReplyReceived, ResumeSaga, StartSaga, TimerFired
from sagaline.saga.state import SagaState, SagaStatus
from sagaline.saga.transition import transition

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_REPLY_IDS = uuid.UUID("0b7f4d0e-9f3a-5c59-8f4e-7e5f6a1b2c3d")


def given(
    definition: WorkflowDefinition,
    data: Mapping[str, Any] | BaseModel,
    *,
    saga_id: str = "saga-1",
    start: datetime = EPOCH,
) -> SagaScenario:
    """Start a saga of ``definition`` with ``data`` at virtual time ``start``."""
    return SagaScenario(definition, data, saga_id=saga_id, start=start)


class SagaScenario:
    def __init__(
        self,
        definition: WorkflowDefinition,
        data: Mapping[str, Any] | BaseModel,
        *,
        saga_id: str,
        start: datetime,
    ) -> None:
        self.definition = definition
        self.clock = start
        self.saga_id = saga_id
        self.sent: list[Outgoing] = []
        self.replies: list[Envelope] = []
        self.transitions: list[Transition] = []
        self._state: SagaState | None = None
        self._unchecked: deque[Outgoing] = deque()
        self._timer: TimerRequest | None = None
        self.when(StartSaga(saga_id, data))

    @property
    def state(self) -> SagaState:
        assert self._state is not None, "the saga was never started"
        return self._state

    @property
    def last(self) -> Transition:
        return self.transitions[-1]

    # -- driving ------------------------------------------------------------------------------

    def when(self, incoming: Incoming) -> Self:
        """Apply any incoming event at the current virtual time."""
        result = transition(self.definition, self._state, incoming, self.clock)
        self.transitions.append(result)
        if result.changed:
            self._state = result.state
            self.sent.extend(result.outgoing)
            self._unchecked.extend(result.outgoing)
            if result.timers:
                self._timer = result.timers[-1]
        return self

    def when_reply(self, reply: Reply, *, answering: Envelope | None = None) -> Self:
        """Deliver ``reply`` as the job's answer to ``answering`` (default: the latest command)."""
        if answering is None:
            if not self.sent:
                raise AssertionError(f"when_reply({type(reply).__name__}): the saga has sent no command")
            answering = self.sent[-1].envelope
        reply_envelope = Envelope(
            message_id=str(uuid.uuid5(_REPLY_IDS, f"{self.saga_id}/{len(self.transitions)}")),
            message_type=reply.message_type,
            saga_id=answering.saga_id,
            workflow=answering.workflow,
            workflow_version=answering.workflow_version,
            step=answering.step,
            attempt=answering.attempt,
            kind=Kind.EVENT,
            contract=answering.contract,
            provider=answering.provider,
            idempotency_key=answering.idempotency_key,
            causation_id=answering.message_id,
            occurred_at=self.clock,
            payload=reply.model_dump(mode="json"),
        )
        self.replies.append(reply_envelope)
        return self.when(ReplyReceived(reply_envelope))

    def when_duplicate_reply(self) -> Self:
        """Deliver the last reply again, byte for byte (at-least-once delivery)."""
        if not self.replies:
            raise AssertionError("when_duplicate_reply(): no reply was delivered yet")
        return self.when(ReplyReceived(self.replies[-1]))

    def when_timeout(self) -> Self:
        """Let the pending command's deadline pass, then any retry backoff that follows it."""
        if self._timer is None:
            raise AssertionError(f"when_timeout(): no timer is set{self._where()}")
        self._fire()
        while (
            self._state is not None and self._state.pending and not self._state.pending.sent and self._timer
        ):
            self._fire()
        return self

    def advance(self, seconds: float) -> Self:
        """Move the clock forward, firing every timer that falls due on the way."""
        target = self.clock + timedelta(seconds=seconds)
        while self._timer is not None and self._timer.due_at <= target:
            self._fire()
        self.clock = target
        return self

    def when_cancelled(self, reason: str = "") -> Self:
        return self.when(CancelSaga(self.saga_id, reason))

    def when_resumed(self, reason: str = "") -> Self:
        return self.when(ResumeSaga(self.saga_id, reason))

    def _fire(self) -> None:
        timer = self._timer
        assert timer is not None
        self._timer = None
        self.clock = max(self.clock, timer.due_at)
        self.when(TimerFired(timer.saga_id, timer.token))

    # -- expectations -------------------------------------------------------------------------

    def expect_command(
        self,
        step: str,
        *,
        to: str | None = None,
        attempt: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> Self:
        """The next unchecked command sent is forward step ``step`` (to provider ``to``...)."""
        if step not in {s.name for s in self.definition.steps}:
            raise AssertionError(f"{self.definition.key} has no step {step!r}")
        return self._expect("command", step, to, attempt, payload)

    def expect_compensation(
        self,
        name: str,
        *,
        to: str | None = None,
        attempt: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> Self:
        """The next unchecked command sent is compensation ``name``."""
        if name not in {s.compensation.name for s in self.definition.steps if s.compensation}:
            raise AssertionError(f"{self.definition.key} has no compensation {name!r}")
        return self._expect("compensation", name, to, attempt, payload)

    def expect_no_command(self) -> Self:
        if self._unchecked:
            raise AssertionError(
                f"expected no command, but the saga sent: {_listing(self._unchecked)}{self._where()}"
            )
        return self

    def expect_state(self, status: str | SagaStatus) -> Self:
        if self.state.status != SagaStatus(status):
            raise AssertionError(f"expected the saga to be {SagaStatus(status)}{self._where()}")
        return self

    def expect_data(self, **expected: Any) -> Self:
        """Saga data holds these keys with these values (other keys are not checked)."""
        wrong = {
            k: self.state.data.get(k, "<missing>") for k, v in expected.items() if self.state.data.get(k) != v
        }
        if wrong:
            raise AssertionError(f"expected data {expected}, but found {wrong}{self._where()}")
        return self

    def expect_ignored(self, reason: str | None = None) -> Self:
        """The last event changed nothing; ``reason``, if given, is part of the reason reported."""
        ignored = self.last.ignored
        if ignored is None:
            raise AssertionError(f"expected the last event to be ignored, but it was applied{self._where()}")
        if reason is not None and reason not in ignored:
            raise AssertionError(
                f"expected the last event ignored for {reason!r}, but the reason was {ignored!r}"
            )
        return self

    def _expect(
        self, kind: str, name: str, to: str | None, attempt: int | None, payload: Mapping[str, Any] | None
    ) -> Self:
        wanted = (
            f"{kind} {name!r}" + (f" to {to!r}" if to else "") + (f" attempt {attempt}" if attempt else "")
        )
        if not self._unchecked:
            raise AssertionError(f"expected {wanted}, but no (further) command was sent{self._where()}")
        env = self._unchecked[0].envelope
        matches = env.step == name and to in (None, env.provider) and attempt in (None, env.attempt)
        missing = {k: v for k, v in (payload or {}).items() if env.payload.get(k, "<missing>") != v}
        if not matches or missing:
            extra = f"; payload differs: wanted {missing}, got {env.payload}" if matches else ""
            raise AssertionError(
                f"expected {wanted}, but the saga sent: {_listing(self._unchecked)}{extra}{self._where()}"
            )
        self._unchecked.popleft()
        return self

    def _where(self) -> str:
        if self._state is None:
            return "; the saga was never started"
        s = self._state
        recent = ", ".join(f"{h.event}({h.step})" if h.step else h.event for h in s.history[-6:])
        reasons = "".join(
            f"; {label}: {text}"
            for label, text in (("rollback", s.rollback_reason), ("failure", s.failure_reason))
            if text
        )
        return (
            f"\n  saga is {s.status}, waiting on {s.current_step or 'nothing'}{reasons}\n  recent: {recent}"
        )


def _listing(outgoing: deque[Outgoing]) -> str:
    envelopes = [o.envelope for o in outgoing]
    return "; ".join(f"{e.step} to {e.provider!r} attempt {e.attempt} ({e.message_type})" for e in envelopes)
