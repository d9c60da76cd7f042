"""Forward steps: send, retry on timeout, fail over between providers, then compensate."""

from __future__ import annotations

from sagaline.contracts.messages import FailureReply, Reply
from sagaline.saga import _compensation, mapping
from sagaline.saga._draft import Draft
from sagaline.saga.definition import StepDefinition
from sagaline.saga.state import Outcome, Phase, StepOutcome


def _step(draft: Draft) -> StepDefinition:
    return draft.definition.steps[draft.state.step_index]


def begin_step(draft: Draft, index: int) -> None:
    draft.update(step_index=index, provider_index=0, attempt=1)
    send(draft)


def send(draft: Draft) -> None:
    """Send the current attempt of the current step to the current provider."""
    step = _step(draft)
    provider = step.providers[draft.state.provider_index]
    pending = draft.plan(Phase.FORWARD, step, provider, draft.state.attempt, sent=True)
    problem = draft.send(step, pending, draft.state.data)
    if problem is not None:
        # Nothing was sent, so nothing can have happened on the provider: a decline, not a doubt.
        _note(draft, step.name, provider, Outcome.DECLINED, problem)
        _compensation.start(draft, problem)


def on_reply(draft: Draft, reply: Reply) -> None:
    step = _step(draft)
    pending = draft.state.pending
    assert pending is not None
    if not isinstance(reply, FailureReply):
        _note(draft, step.name, pending.provider, Outcome.SUCCEEDED)
        updates = mapping.build(step.reply, reply.model_dump(mode="json"))
        draft.update(data={**draft.state.data, **updates}, pending=None)
        detail = f"{reply.message_type} from {pending.provider}"
        draft.record("step_succeeded", step=step.name, attempt=pending.attempt, detail=detail)
        _advance(draft)
        return
    detail = f"{reply.message_type}: {reply.reason}"
    if reply.retryable and reply.message_type not in step.retry.non_retryable:
        _note(draft, step.name, pending.provider, Outcome.UNCERTAIN, detail)
        draft.record("step_failed", step=step.name, attempt=pending.attempt, detail=f"{detail} (retryable)")
        fail_over(draft, detail)
        return
    _note(draft, step.name, pending.provider, Outcome.DECLINED, detail)
    draft.record("step_declined", step=step.name, attempt=pending.attempt, detail=detail)
    _compensation.start(draft, f"{step.name} declined by {pending.provider}: {detail}")


def on_timeout(draft: Draft) -> None:
    step = _step(draft)
    pending = draft.state.pending
    assert pending is not None
    draft.record(
        "timed_out", step=step.name, attempt=pending.attempt, detail=f"no reply from {pending.provider}"
    )
    if pending.attempt < step.retry.max_attempts:
        retry = draft.plan(Phase.FORWARD, step, pending.provider, pending.attempt + 1, sent=False)
        draft.wait_for(retry)
        draft.record(
            "retry_scheduled",
            step=step.name,
            attempt=retry.attempt,
            detail=f"at {retry.deadline.isoformat()}",
        )
        return
    detail = f"no reply from {pending.provider} after {pending.attempt} attempts"
    _note(draft, step.name, pending.provider, Outcome.UNCERTAIN, detail)
    fail_over(draft, detail)


def fail_over(draft: Draft, detail: str) -> None:
    """Try the next provider of the step from attempt 1, or compensate after the last one."""
    step = _step(draft)
    following = draft.state.provider_index + 1
    if following < len(step.providers):
        draft.record("failover", step=step.name, detail=f"to {step.providers[following]} after {detail}")
        draft.update(provider_index=following, attempt=1, pending=None)
        send(draft)
        return
    _compensation.start(draft, f"{step.name} failed on every provider (last: {detail})")


def cancel(draft: Draft, reason: str) -> None:
    """Roll back a running saga: whatever is in flight may still happen, so it is undone too."""
    pending = draft.state.pending
    if pending is not None and pending.phase is Phase.FORWARD:
        _note(
            draft, pending.step, pending.provider, Outcome.UNCERTAIN, "in flight when the saga was cancelled"
        )
    draft.record("cancel_requested", detail=reason)
    _compensation.start(draft, f"cancelled by operator{': ' + reason if reason else ''}")


def _advance(draft: Draft) -> None:
    following = draft.state.step_index + 1
    if following < len(draft.definition.steps):
        begin_step(draft, following)
        return
    # Every step is done, but a provider the saga failed over from may still have done its part
    # (it timed out or failed transiently): that is undone before the saga counts as completed.
    _compensation.settle(draft)


def _note(draft: Draft, step: str, provider: str, outcome: Outcome, detail: str = "") -> None:
    record = StepOutcome(step=step, provider=provider, outcome=outcome, detail=detail)
    draft.update(outcomes=(*draft.state.outcomes, record))
