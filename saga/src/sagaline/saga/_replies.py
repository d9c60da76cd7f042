"""Which replies a saga acts on. Anything else is ignored with a reason the adapter counts.

Only a reply whose ``causation_id`` is the pending command's id is acted on: with at-least-once
delivery, duplicates, replies to earlier attempts, and replies for steps the saga has left all
arrive, and each must change nothing.
"""

from __future__ import annotations

from pydantic import ValidationError
from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.messages import Reply
from sagaline.contracts.versioning import accepts
from sagaline.saga.definition import WorkflowDefinition
from sagaline.saga.state import PendingCommand, Phase, SagaState


def match(definition: WorkflowDefinition, state: SagaState, envelope: Envelope) -> Reply | str:
    """The parsed reply to the pending command, or why ``envelope`` is ignored."""
    if envelope.kind is not Kind.EVENT:
        return f"not a reply: {envelope.message_type} is a {envelope.kind}"
    if state.status.terminal:
        return f"late reply {envelope.message_type}: saga is already {state.status}"
    if envelope.causation_id is None:
        return f"reply {envelope.message_type} has no causation_id"
    if envelope.causation_id in state.answered:
        return f"duplicate reply {envelope.message_type} to {envelope.step} attempt {envelope.attempt}"
    pending = state.pending
    if pending is None:
        return f"late reply {envelope.message_type}: saga is {state.status} and waits for no reply"
    if envelope.causation_id != pending.message_id:
        return _mismatch(envelope, pending)
    return _parse(definition, pending, envelope)


def _mismatch(envelope: Envelope, pending: PendingCommand) -> str:
    if envelope.step != pending.step:
        return (
            f"out-of-order reply for step {envelope.step!r}: saga waits on {pending.step!r} "
            f"attempt {pending.attempt}"
        )
    if envelope.provider != pending.provider:
        return (
            f"late reply from {envelope.provider} to {envelope.step}: "
            f"the saga moved on to {pending.provider} attempt {pending.attempt}"
        )
    if envelope.attempt < pending.attempt:
        return (
            f"late reply to {envelope.step} attempt {envelope.attempt}: attempt {pending.attempt} is pending"
        )
    return f"reply to {envelope.step} does not answer the pending command (causation {envelope.causation_id})"


def _parse(definition: WorkflowDefinition, pending: PendingCommand, envelope: Envelope) -> Reply | str:
    if pending.phase is Phase.COMPENSATION:
        step = next(s for s in definition.steps if s.compensation and s.compensation.name == pending.step)
    else:
        step = definition.step(pending.step)
    template = step.template
    if envelope.template_name != template.name or not accepts(template.version, envelope.contract_version):
        return f"reply contract {envelope.contract} does not match {template.contract} of {pending.step}"
    operation = template.operation(pending.operation)
    replies = {cls.message_type: cls for cls in operation.replies}
    model = replies.get(envelope.message_type)
    if model is None:
        return (
            f"unexpected reply type {envelope.message_type} for {pending.step} "
            f"({template.name}.{operation.name} replies with {', '.join(replies)})"
        )
    try:
        return model.model_validate(envelope.payload)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "payload" for e in exc.errors())
        return f"malformed {envelope.message_type} payload ({fields})"
