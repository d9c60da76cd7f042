"""The working copy of one transition: the next state plus what to send and schedule.

Everything here is derived from the inputs only (ids are uuid5 of the saga, step, phase, attempt,
provider and resume round), so computing the same transition twice yields identical output.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.messages import Command
from sagaline.contracts.topics import commands_topic
from sagaline.saga import mapping
from sagaline.saga.definition import StepDefinition, WorkflowDefinition
from sagaline.saga.effects import Outgoing, TimerRequest, Transition
from sagaline.saga.state import HISTORY_LIMIT, HistoryEntry, PendingCommand, Phase, SagaState

# Fixed namespace: message ids must be the same in every process and release.
_NAMESPACE = uuid.UUID("8f1c6c1e-4a57-5f0b-9d7e-5a6761c1e001")


@dataclass
class Draft:
    definition: WorkflowDefinition
    state: SagaState
    now: datetime
    causation_id: str | None
    outgoing: list[Outgoing] = field(default_factory=list)
    timers: list[TimerRequest] = field(default_factory=list)
    entries: list[HistoryEntry] = field(default_factory=list)

    def update(self, **changes: Any) -> None:
        self.state = self.state.model_copy(update=changes)

    def record(self, event: str, *, step: str = "", attempt: int | None = None, detail: str = "") -> None:
        self.entries.append(HistoryEntry(at=self.now, event=event, step=step, attempt=attempt, detail=detail))

    def finish(self) -> Transition:
        history = (*self.state.history, *self.entries)[-HISTORY_LIMIT:]
        state = self.state.model_copy(
            update={"history": history, "version": self.state.version + 1, "updated_at": self.now}
        )
        return Transition(
            state=state,
            outgoing=tuple(self.outgoing),
            timers=tuple(self.timers),
            events=tuple(entry.event for entry in self.entries),
        )

    def plan(
        self, phase: Phase, step: StepDefinition, provider: str, attempt: int, *, sent: bool
    ) -> PendingCommand:
        """The pending command for ``attempt`` of ``step`` (or its compensation) on ``provider``.

        ``sent=False`` plans a retry that waits out the step's backoff before it is sent.
        """
        comp = step.compensation
        if phase is Phase.COMPENSATION and comp is not None:
            name, operation, timeout, retry = comp.name, comp.operation, comp.timeout, comp.retry
        else:
            name, operation, timeout, retry = step.name, step.operation, step.timeout, step.retry
        # A resume starts a new round of compensation: new ids and key, so a job that cached the
        # failed outcome under the old key does the work again. This relies on compensations being
        # idempotent by their business key (release and cancel by order id, refund by charge),
        # as every template's compensation is specified, so a second round cannot undo twice.
        round_ = self.state.resumes if phase is Phase.COMPENSATION else 0
        saga_id = self.state.saga_id
        # Attempt n is retry n-1: a planned retry waits out that backoff, a sent command its timeout.
        wait = timeout if sent else retry.delay(attempt - 1)
        key = f"{saga_id}:{name}:{operation}:{provider}" + (f":r{round_}" if round_ else "")
        return PendingCommand(
            message_id=str(uuid.uuid5(_NAMESPACE, f"{saga_id}/{name}/{phase}/{attempt}/{provider}/{round_}")),
            idempotency_key=key,
            step=name,
            phase=phase,
            operation=operation,
            attempt=attempt,
            provider=provider,
            deadline=self.now + timedelta(seconds=wait),
            sent=sent,
            timer_token=f"{'reply' if sent else 'retry'}:{phase}:{name}:{provider}:{attempt}:{round_}",
        )

    def wait_for(self, pending: PendingCommand) -> None:
        """Make ``pending`` the command the saga waits on and ask for its timer."""
        self.update(pending=pending, attempt=pending.attempt)
        self.timers.append(TimerRequest(self.state.saga_id, pending.deadline, pending.timer_token))

    def send(self, step: StepDefinition, pending: PendingCommand, data: Mapping[str, Any]) -> str | None:
        """Build ``pending``'s command from ``data``, queue it and wait for its reply.

        Returns why the command cannot be built (and sends nothing), or None once queued.
        """
        command_mapping, model = self._command_of(step, pending.phase)
        try:
            command = model.model_validate(mapping.build(command_mapping, data))
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return f"cannot build {model.message_type} for {pending.step}: {detail}"
        envelope = Envelope(
            message_id=pending.message_id,
            message_type=model.message_type,
            saga_id=self.state.saga_id,
            workflow=self.definition.name,
            workflow_version=self.definition.version,
            step=pending.step,
            attempt=pending.attempt,
            kind=Kind.COMMAND,
            contract=step.template.contract,
            provider=pending.provider,
            idempotency_key=pending.idempotency_key,
            causation_id=self.causation_id,
            occurred_at=self.now,
            payload=command.model_dump(mode="json"),
        )
        self.outgoing.append(
            Outgoing(commands_topic(step.template, pending.provider), self.state.saga_id, envelope)
        )
        self.wait_for(pending)
        self.record(
            "command_sent", step=pending.step, attempt=pending.attempt, detail=f"to {pending.provider}"
        )
        return None

    @staticmethod
    def _command_of(step: StepDefinition, phase: Phase) -> tuple[Mapping[str, Any], type[Command]]:
        if phase is Phase.COMPENSATION and step.compensation is not None:
            return step.compensation.command, step.template.operation(step.compensation.operation).command
        return step.command, step.forward_operation.command
