"""The stored state of one saga instance: small, JSON-serialisable, replaced (never mutated) by
every transition."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

HISTORY_LIMIT = 50
ANSWERED_LIMIT = 20


class SagaStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    FAILED = "failed"  # a compensation gave up: parked for an operator to resume or cancel
    CANCELLED = "cancelled"  # an operator gave up on a failed saga

    @property
    def terminal(self) -> bool:
        return self in (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.CANCELLED)


class Phase(StrEnum):
    FORWARD = "forward"
    COMPENSATION = "compensation"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # the provider said no (or was never asked): nothing to undo
    UNCERTAIN = "uncertain"  # timed out or failed transiently: it may have happened, so undo it


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PendingCommand(_Frozen):
    """The one command the saga waits on. ``sent`` is False while a retry waits out its backoff:
    then ``deadline`` is when it will be sent, otherwise when its reply is due."""

    message_id: str
    idempotency_key: str
    step: str = Field(description="Step name, or compensation name in the compensation phase.")
    phase: Phase
    operation: str
    attempt: int = Field(ge=1)
    provider: str
    deadline: datetime
    sent: bool = True
    timer_token: str


class StepOutcome(_Frozen):
    """What one provider did with one forward step."""

    step: str
    provider: str
    outcome: Outcome
    detail: str = ""


class CompensationTask(_Frozen):
    """One compensation to run: undo ``step`` on ``provider`` with the step's compensation."""

    step: str
    compensation: str
    provider: str
    done: bool = False


class HistoryEntry(_Frozen):
    at: datetime
    event: str
    step: str = ""
    attempt: int | None = None
    detail: str = ""


class SagaState(_Frozen):
    """One saga. ``version`` grows by one with every transition: the store writes a new state only
    if the stored one still has the version it was computed from (compare-and-set)."""

    saga_id: str = Field(min_length=1)
    workflow: str
    workflow_version: str
    status: SagaStatus
    data: dict[str, Any] = Field(default_factory=dict)
    step_index: int = Field(default=0, ge=0, description="Forward step the saga is at (or stopped at).")
    provider_index: int = Field(default=0, ge=0)
    attempt: int = Field(default=1, ge=1, description="Attempt of the pending command.")
    pending: PendingCommand | None = None
    outcomes: tuple[StepOutcome, ...] = ()
    compensations: tuple[CompensationTask, ...] = Field(
        default=(), description="Compensation plan in execution order (reverse of the steps)."
    )
    resumes: int = Field(default=0, ge=0, description="Times an operator resumed the saga.")
    answered: tuple[str, ...] = Field(default=(), description="Recently answered command ids.")
    history: tuple[HistoryEntry, ...] = ()
    rollback_reason: str | None = Field(default=None, description="Why the saga started compensating.")
    failure_reason: str | None = Field(default=None, description="Why a compensation gave up.")
    trace_parent: str | None = Field(
        default=None,
        description="W3C traceparent of the saga's root span: spans with no other parent (timers, "
        "operator actions) hang under it, so a saga is one trace. Set by the adapter, not the core.",
    )
    version: int = Field(default=0, ge=0)
    created_at: datetime
    updated_at: datetime

    @property
    def current_step(self) -> str | None:
        return self.pending.step if self.pending else None

    @property
    def remaining_compensations(self) -> tuple[CompensationTask, ...]:
        return tuple(task for task in self.compensations if not task.done)

    @property
    def done_compensations(self) -> tuple[CompensationTask, ...]:
        return tuple(task for task in self.compensations if task.done)

    def outcomes_of(self, step: str) -> tuple[StepOutcome, ...]:
        return tuple(o for o in self.outcomes if o.step == step)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str | bytes) -> SagaState:
        return cls.model_validate_json(raw)
