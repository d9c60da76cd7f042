"""The saga coordinator's core: one pure function from (state, what happened) to what to do.

No I/O, no clock, no randomness: the adapter supplies ``now`` and persists the result. The same
inputs always give the same state, ids and timers, so a transition recomputed after a crash or a
lost compare-and-set race produces exactly the messages the first computation would have.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python
from sagaline.saga import _compensation, _forward, _replies
from sagaline.saga._draft import Draft
from sagaline.saga.definition import WorkflowDefinition
from sagaline.saga.effects import Transition
from sagaline.saga.incoming import CancelSaga, Incoming, ReplyReceived, ResumeSaga, StartSaga, TimerFired
from sagaline.saga.state import ANSWERED_LIMIT, Phase, SagaState, SagaStatus


def transition(
    definition: WorkflowDefinition, state: SagaState | None, incoming: Incoming, now: datetime
) -> Transition:
    """Apply ``incoming`` to ``state`` (None: no saga stored yet) under ``definition``.

    ``definition`` must be the one the saga started on (``WorkflowRegistry.for_saga``); ``now``
    must be timezone-aware. Raises ``ValueError`` only for such programming errors; everything a
    broker or an operator can send yields a ``Transition``, ignored with a reason if it changes
    nothing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if isinstance(incoming, StartSaga):
        return _start(definition, state, incoming, now)
    if state is None:
        return Transition(None, ignored=f"unknown saga {incoming.saga_id!r}")
    if (state.workflow, state.workflow_version) != (definition.name, definition.version):
        raise ValueError(
            f"saga {state.saga_id} runs {state.workflow}@{state.workflow_version}, not {definition.key}"
        )
    if incoming.saga_id != state.saga_id:
        raise ValueError(
            f"{type(incoming).__name__} for saga {incoming.saga_id} applied to saga {state.saga_id}"
        )
    if isinstance(incoming, ReplyReceived):
        return _reply(definition, state, incoming, now)
    if isinstance(incoming, TimerFired):
        return _timer(definition, state, incoming, now)
    if isinstance(incoming, ResumeSaga):
        if state.status is not SagaStatus.FAILED:
            return Transition(state, ignored=f"only a failed saga can be resumed; saga is {state.status}")
        draft = Draft(definition, state, now, None)
        _compensation.resume(draft, incoming.reason)
        return draft.finish()
    return _cancel(definition, state, incoming, now)


def _start(
    definition: WorkflowDefinition, state: SagaState | None, incoming: StartSaga, now: datetime
) -> Transition:
    if state is not None:
        return Transition(state, ignored=f"saga {incoming.saga_id!r} already exists ({state.status})")
    raw = incoming.data if isinstance(incoming.data, BaseModel) else dict(incoming.data)
    try:
        data = to_jsonable_python(raw)
    except PydanticSerializationError as exc:
        raise ValueError(f"saga data must be JSON-serialisable: {exc}") from exc
    initial = SagaState(
        saga_id=incoming.saga_id,
        workflow=definition.name,
        workflow_version=definition.version,
        status=SagaStatus.RUNNING,
        data=data,
        version=0,
        created_at=now,
        updated_at=now,
    )
    draft = Draft(definition, initial, now, None)
    draft.record("started", detail=definition.key)
    _forward.begin_step(draft, 0)
    return draft.finish()


def _reply(
    definition: WorkflowDefinition, state: SagaState, incoming: ReplyReceived, now: datetime
) -> Transition:
    envelope = incoming.envelope
    reply = _replies.match(definition, state, envelope)
    if isinstance(reply, str):
        return Transition(state, ignored=reply)
    pending = state.pending
    assert pending is not None
    draft = Draft(definition, state, now, envelope.message_id)
    draft.update(answered=(*state.answered, pending.message_id)[-ANSWERED_LIMIT:])
    if pending.phase is Phase.FORWARD:
        _forward.on_reply(draft, reply)
    else:
        _compensation.on_reply(draft, reply)
    return draft.finish()


def _timer(
    definition: WorkflowDefinition, state: SagaState, incoming: TimerFired, now: datetime
) -> Transition:
    pending = state.pending
    if state.status.terminal:
        return Transition(state, ignored=f"stale timer {incoming.token}: saga is {state.status}")
    if pending is None or incoming.token != pending.timer_token:
        return Transition(state, ignored=f"stale timer {incoming.token}")
    draft = Draft(definition, state, now, None)
    forward = pending.phase is Phase.FORWARD
    if not pending.sent:
        (_forward.send if forward else _compensation.send)(draft)
    elif forward:
        _forward.on_timeout(draft)
    else:
        _compensation.on_timeout(draft)
    return draft.finish()


def _cancel(
    definition: WorkflowDefinition, state: SagaState, incoming: CancelSaga, now: datetime
) -> Transition:
    draft = Draft(definition, state, now, None)
    if state.status is SagaStatus.RUNNING:
        _forward.cancel(draft, incoming.reason)
    elif state.status is SagaStatus.FAILED:
        draft.update(status=SagaStatus.CANCELLED)
        draft.record("cancelled", detail=incoming.reason or "operator gave up on the failed compensation")
    else:
        return Transition(state, ignored=f"cannot cancel a saga that is {state.status}")
    return draft.finish()
