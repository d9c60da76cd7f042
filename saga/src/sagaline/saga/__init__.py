"""Sagaline saga coordinator: the workflow DSL and the pure transition core.

Adapters (Redis store, outbox relay, Kafka consumer, API, CLI) wrap ``transition``; the test
harness for workflows is ``sagaline.saga.testing``.
"""

from sagaline.saga.definition import (
    CompensationDefinition,
    DefinitionError,
    StepDefinition,
    WorkflowDefinition,
)
from sagaline.saga.dsl import workflow
from sagaline.saga.effects import Outgoing, TimerRequest, Transition
from sagaline.saga.incoming import CancelSaga, Incoming, ReplyReceived, ResumeSaga, StartSaga, TimerFired
from sagaline.saga.registry import UnknownWorkflow, WorkflowRegistry
from sagaline.saga.state import (
    CompensationTask,
    HistoryEntry,
    Outcome,
    PendingCommand,
    Phase,
    SagaState,
    SagaStatus,
    StepOutcome,
)
from sagaline.saga.transition import transition

__all__ = [
    "CancelSaga",
    "CompensationDefinition",
    "CompensationTask",
    "DefinitionError",
    "HistoryEntry",
    "Incoming",
    "Outcome",
    "Outgoing",
    "PendingCommand",
    "Phase",
    "ReplyReceived",
    "ResumeSaga",
    "SagaState",
    "SagaStatus",
    "StartSaga",
    "StepDefinition",
    "StepOutcome",
    "TimerFired",
    "TimerRequest",
    "Transition",
    "UnknownWorkflow",
    "WorkflowDefinition",
    "WorkflowRegistry",
    "transition",
    "workflow",
]
