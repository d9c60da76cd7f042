"""What the API shows of a saga: built from its stored state and the definition it runs on.

Sensitive values never leave: a data field is masked when the workflow's data model marks it
sensitive, when a step copies it into a command field its template marks sensitive, or when a
step copies it out of a sensitive reply field. A saga whose definition is no longer registered
shows no data values at all, because nothing says which of them are safe.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from sagaline.contracts.messages import Message
from sagaline.saga import mapping
from sagaline.saga.api_models import (
    CompensationTaskView,
    CompensationView,
    HistoryView,
    OutcomeView,
    SagaSummary,
    SagaView,
    StepState,
    StepView,
)
from sagaline.saga.definition import StepDefinition, WorkflowDefinition
from sagaline.saga.registry import UnknownWorkflow, WorkflowRegistry
from sagaline.saga.state import CompensationTask, Outcome, Phase, SagaState, SagaStatus

MASK = "****"

Path = tuple[str, ...]


class SagaViews:
    """Turns stored sagas into API views; caches each definition's sensitive paths."""

    def __init__(self, registry: WorkflowRegistry) -> None:
        self.registry = registry
        self._sensitive: dict[str, frozenset[Path]] = {}

    def summary(self, state: SagaState) -> SagaSummary:
        return SagaSummary(**_summary_fields(state))

    def view(self, state: SagaState) -> SagaView:
        try:
            definition: WorkflowDefinition | None = self.registry.for_saga(
                state.workflow, state.workflow_version
            )
        except UnknownWorkflow:
            definition = None
        if definition is None:
            steps: list[StepView] = []
            remaining: list[str] = []
            data = {key: MASK for key in state.data}
        else:
            steps = [_step_view(state, i, step) for i, step in enumerate(definition.steps)]
            running = state.status is SagaStatus.RUNNING
            remaining = [s.name for s in definition.steps[state.step_index + 1 :]] if running else []
            data = mask(state.data, self._sensitive_paths(definition))
        pending = state.pending
        return SagaView(
            **_summary_fields(state),
            waiting_until=pending.deadline if pending else None,
            steps=steps,
            remaining_steps=remaining,
            compensation=_compensation_view(state),
            rollback_reason=state.rollback_reason,
            failure_reason=state.failure_reason,
            resumes=state.resumes,
            version=state.version,
            data=data,
            history=[HistoryView(**entry.model_dump()) for entry in state.history],
        )

    def _sensitive_paths(self, definition: WorkflowDefinition) -> frozenset[Path]:
        cached = self._sensitive.get(definition.key)
        if cached is None:
            model = self.registry.data_model(definition.name, definition.version)
            cached = sensitive_paths(definition, model)
            self._sensitive[definition.key] = cached
        return cached


def sensitive_paths(definition: WorkflowDefinition, data_model: type[BaseModel] | None) -> frozenset[Path]:
    """Paths into saga data that hold sensitive values (an empty path means all of it)."""
    found: set[Path] = set()
    if data_model is not None:
        found.update((name,) for name in _marked(data_model))
    for step in definition.steps:
        for command, model in _commands(step):
            for field in model.sensitive_fields():
                found.update(_segments(path) for path in mapping.paths(command.get(field)))
        secrets = step.forward_operation.success.sensitive_fields()
        for data_key, spec in step.reply.items():
            if any(_reads_secret(_segments(path), secrets) for path in mapping.paths(spec)):
                found.add((data_key,))
    return frozenset(found)


def mask(data: Mapping[str, Any], paths: Iterable[Path]) -> dict[str, Any]:
    """A copy of ``data`` with the value at every path that exists replaced by ``MASK``."""
    out = copy.deepcopy(dict(data))
    for path in paths:
        if not path:
            return {key: MASK for key in out}
        _mask_at(out, path)
    return out


def _mask_at(node: Any, path: Path) -> None:
    head, rest = path[0], path[1:]
    if isinstance(node, dict) and head in node:
        key: Any = head
    elif isinstance(node, list) and head.isdigit() and int(head) < len(node):
        key = int(head)
    else:
        return
    if rest:
        _mask_at(node[key], rest)
    elif node[key] is not None:
        node[key] = MASK


def _marked(model: type[BaseModel]) -> set[str]:
    return {
        name
        for name, field in model.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("x-sensitive")
    }


def _commands(step: StepDefinition) -> list[tuple[Mapping[str, Any], type[Message]]]:
    found: list[tuple[Mapping[str, Any], type[Message]]] = [(step.command, step.forward_operation.command)]
    if step.compensation is not None:
        operation = step.template.operation(step.compensation.operation)
        found.append((step.compensation.command, operation.command))
    return found


def _segments(path: str) -> Path:
    return tuple(path.split(".")[1:])


def _reads_secret(path: Path, secrets: frozenset[str]) -> bool:
    # "$" copies the whole reply, secrets included.
    return path[0] in secrets if path else bool(secrets)


def _summary_fields(state: SagaState) -> dict[str, Any]:
    pending = state.pending
    return {
        "saga_id": state.saga_id,
        "workflow": state.workflow,
        "workflow_version": state.workflow_version,
        "status": state.status,
        "current_step": pending.step if pending else None,
        "phase": pending.phase if pending else None,
        "attempt": pending.attempt if pending else None,
        "provider": pending.provider if pending else None,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
    }


def _step_view(state: SagaState, index: int, step: StepDefinition) -> StepView:
    outcomes = state.outcomes_of(step.name)
    return StepView(
        name=step.name,
        contract=step.template.contract,
        operation=step.operation,
        providers=list(step.providers),
        state=_step_state(state, index, [o.outcome for o in outcomes]),
        outcomes=[OutcomeView(provider=o.provider, outcome=o.outcome, detail=o.detail) for o in outcomes],
    )


def _step_state(state: SagaState, index: int, outcomes: list[Outcome]) -> StepState:
    running = state.status is SagaStatus.RUNNING
    if Outcome.SUCCEEDED in outcomes:
        return "succeeded"
    if running and index == state.step_index:
        return "in_progress"
    if outcomes:
        return "declined" if outcomes[-1] is Outcome.DECLINED else "uncertain"
    return "pending" if running and index > state.step_index else "not_run"


def _compensation_view(state: SagaState) -> CompensationView | None:
    if state.rollback_reason is None and not state.compensations:
        return None
    pending = state.pending
    return CompensationView(
        reason=state.rollback_reason,
        current=pending.step if pending and pending.phase is Phase.COMPENSATION else None,
        done=[_task_view(task) for task in state.done_compensations],
        remaining=[_task_view(task) for task in state.remaining_compensations],
    )


def _task_view(task: CompensationTask) -> CompensationTaskView:
    return CompensationTaskView(
        step=task.step, compensation=task.compensation, provider=task.provider, done=task.done
    )
