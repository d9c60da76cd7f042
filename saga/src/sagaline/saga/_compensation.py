"""Compensation: undo, in reverse step order, every step that succeeded or may have.

A step is undone on each provider that did it or may have done it (timed out, failed
transiently, or was in flight when cancelled); a provider that declined is left alone.
Compensations never fail over: only the provider that may have done the work can undo it.

A saga whose steps all succeeded may still have a step that a provider it failed over from may
have done too (stripe timed out, paypal charged): before it completes it *settles*, undoing just
those with the same machinery, still ``running``. Without that, such an order is charged twice.
"""

from __future__ import annotations

from typing import Any

from sagaline.contracts.messages import FailureReply, Reply
from sagaline.saga._draft import Draft
from sagaline.saga.definition import CompensationDefinition, StepDefinition
from sagaline.saga.state import CompensationTask, Outcome, Phase, SagaStatus

_TO_UNDO = (Outcome.SUCCEEDED, Outcome.UNCERTAIN)


def start(draft: Draft, reason: str) -> None:
    tasks = _plan(draft, _TO_UNDO)
    draft.update(status=SagaStatus.COMPENSATING, pending=None, compensations=tasks, attempt=1)
    draft.update(rollback_reason=reason)
    draft.record("compensating", detail=reason)
    _next(draft)


def settle(draft: Draft) -> None:
    """Every step succeeded: undo what providers the saga failed over from may have done, in
    reverse step order, then complete (at once if there is nothing to undo)."""
    tasks = _plan(draft, (Outcome.UNCERTAIN,))
    if tasks:
        undo = ", ".join(f"{t.compensation} on {t.provider}" for t in tasks)
        draft.update(pending=None, compensations=tasks, attempt=1)
        draft.record(
            "settling",
            detail=f"every step succeeded; undoing what failed-over providers may have done: {undo}",
        )
    _next(draft)


def _plan(draft: Draft, undo: tuple[Outcome, ...]) -> tuple[CompensationTask, ...]:
    """A task per provider whose outcome is in ``undo``, for every step reached, last step first."""
    state = draft.state
    return tuple(
        CompensationTask(step=step.name, compensation=step.compensation.name, provider=outcome.provider)
        for step in reversed(draft.definition.steps[: state.step_index + 1])
        if step.compensation is not None
        for outcome in reversed(state.outcomes_of(step.name))
        if outcome.outcome in undo
    )


def _settling(draft: Draft) -> bool:
    # Only a rollback sets a reason: compensations without one are a completed saga's settling.
    return draft.state.rollback_reason is None


def resume(draft: Draft, reason: str) -> None:
    """Retry the compensation that gave up, from attempt 1, then carry on with the rest."""
    status = SagaStatus.RUNNING if _settling(draft) else SagaStatus.COMPENSATING
    draft.update(status=status, resumes=draft.state.resumes + 1, attempt=1, failure_reason=None)
    draft.record("resumed", detail=reason)
    _next(draft)


def send(draft: Draft) -> None:
    """Send the current attempt of the first compensation not yet done."""
    task = draft.state.remaining_compensations[0]
    step = draft.definition.step(task.step)
    pending = draft.plan(Phase.COMPENSATION, step, task.provider, draft.state.attempt, sent=True)
    problem = draft.send(step, pending, _data_for(draft, step, task.provider))
    if problem is not None:
        _give_up(draft, problem)


def on_reply(draft: Draft, reply: Reply) -> None:
    pending, task = draft.state.pending, draft.state.remaining_compensations[0]
    assert pending is not None
    if not isinstance(reply, FailureReply):
        done = tuple(
            t.model_copy(update={"done": True}) if t == task else t for t in draft.state.compensations
        )
        draft.update(compensations=done, pending=None, attempt=1)
        draft.record(
            "compensation_succeeded",
            step=pending.step,
            attempt=pending.attempt,
            detail=f"{reply.message_type} from {pending.provider}",
        )
        _next(draft)
        return
    comp = _compensation_of(draft, task)
    detail = f"{reply.message_type}: {reply.reason}"
    draft.record("compensation_failed", step=pending.step, attempt=pending.attempt, detail=detail)
    if not reply.retryable or reply.message_type in comp.retry.non_retryable:
        _give_up(draft, f"{comp.name} on {pending.provider} failed: {detail}")
    else:
        _retry_or_give_up(draft, comp, detail)


def on_timeout(draft: Draft) -> None:
    pending, task = draft.state.pending, draft.state.remaining_compensations[0]
    assert pending is not None
    draft.record(
        "timed_out", step=pending.step, attempt=pending.attempt, detail=f"no reply from {pending.provider}"
    )
    _retry_or_give_up(draft, _compensation_of(draft, task), f"no reply from {pending.provider}")


def _retry_or_give_up(draft: Draft, comp: CompensationDefinition, detail: str) -> None:
    pending = draft.state.pending
    assert pending is not None
    if pending.attempt >= comp.retry.max_attempts:
        _give_up(
            draft, f"{comp.name} on {pending.provider} failed after {pending.attempt} attempts: {detail}"
        )
        return
    step = draft.definition.step(draft.state.remaining_compensations[0].step)
    retry = draft.plan(Phase.COMPENSATION, step, pending.provider, pending.attempt + 1, sent=False)
    draft.wait_for(retry)
    draft.record(
        "retry_scheduled", step=comp.name, attempt=retry.attempt, detail=f"at {retry.deadline.isoformat()}"
    )


def _next(draft: Draft) -> None:
    if draft.state.remaining_compensations:
        send(draft)
        return
    if _settling(draft):
        draft.update(status=SagaStatus.COMPLETED, pending=None)
        draft.record("completed")
        return
    draft.update(status=SagaStatus.COMPENSATED, pending=None)
    draft.record("compensated")


def _give_up(draft: Draft, reason: str) -> None:
    draft.update(status=SagaStatus.FAILED, pending=None, failure_reason=reason)
    draft.record("failed", detail=reason)


def _compensation_of(draft: Draft, task: CompensationTask) -> CompensationDefinition:
    comp = draft.definition.step(task.step).compensation
    assert comp is not None
    return comp


def _data_for(draft: Draft, step: StepDefinition, provider: str) -> dict[str, Any]:
    data = draft.state.data
    succeeded = any(
        o.provider == provider and o.outcome is Outcome.SUCCEEDED for o in draft.state.outcomes_of(step.name)
    )
    if succeeded:
        return data
    # This provider's reply was never applied: the step's reply keys in the data (if any) came
    # from another provider, so they must not be sent to this one (a stripe refund must not carry
    # a paypal charge id). Leaving them out lets the command default apply (charge_id=None).
    return {key: value for key, value in data.items() if key not in step.reply}
