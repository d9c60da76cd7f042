"""What a transition asks the world to do: the outputs of ``transition``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sagaline.contracts.envelope import Envelope
from sagaline.saga.state import SagaState


@dataclass(frozen=True)
class Outgoing:
    """A command to publish: unsigned envelope, ``key`` is the saga id (one partition per saga)."""

    topic: str
    key: str
    envelope: Envelope


@dataclass(frozen=True)
class TimerRequest:
    """Deliver ``TimerFired(saga_id, token)`` at ``due_at``.

    A saga has at most one live timer: each request supersedes the saga's earlier ones, whose
    tokens no longer match and would be ignored if they fired anyway.
    """

    saga_id: str
    due_at: datetime
    token: str


@dataclass(frozen=True)
class Transition:
    """The result of one ``transition`` call.

    When ``ignored`` is set nothing changed: ``state`` is the state given (None for an unknown
    saga), there is nothing to send or schedule, and the adapter only counts the reason.
    Otherwise the adapter stores ``state`` (compare-and-set on ``state.version - 1``) together
    with ``outgoing`` in its outbox, and schedules ``timers``.

    ``events`` names the history entries this transition added, in order, for metrics: started,
    command_sent, step_succeeded, step_failed (retryable), step_declined, timed_out,
    retry_scheduled, failover, completed, cancel_requested, compensating, compensation_succeeded,
    compensation_failed, compensated, failed, resumed, cancelled.
    """

    state: SagaState | None
    outgoing: tuple[Outgoing, ...] = ()
    timers: tuple[TimerRequest, ...] = ()
    ignored: str | None = None
    events: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return self.ignored is None
