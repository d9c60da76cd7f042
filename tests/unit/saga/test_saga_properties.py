"""Properties over random reply/timeout sequences, whatever the jobs answer and in whatever order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sagaline.contracts.messages import Reply
from sagaline.saga import Phase
from sagaline.saga.testing import SagaScenario
from sagaline.saga.testing import given as given_saga
from sagaline.saga.workflows import order_processing_workflow

pytestmark = pytest.mark.unit

ORDER = {
    "order_id": "ord-1",
    "customer_email": "ada@example.com",
    "items": [{"sku": "sku-mug", "quantity": 1}],
    "amount_cents": 1000,
    "currency": "USD",
    "card_token": "tok",
    "recipient_name": "Ada",
    "address_line": "1 Road",
    "city": "London",
    "postal_code": "N1",
    "country": "GB",
}
# Every field any success reply needs; replies ignore the fields they do not have.
ANY_SUCCESS = {
    "order_id": "ord-1",
    "reservation_id": "r",
    "charge_id": "c",
    "amount_cents": 1000,
    "currency": "USD",
    "shipment_id": "s",
    "tracking_number": "t",
    "delivery_id": "d",
    "released": True,
    "refund_id": "rf",
    "cancelled": True,
}
ACTIONS = st.sampled_from(["success", "retryable", "decline", "timeout", "duplicate", "cancel", "resume"])
COMPENSATED_STEP = {s.compensation.name: s.name for s in order_processing_workflow.steps if s.compensation}


def reply_for(scenario: SagaScenario, action: str) -> Reply:
    pending = scenario.state.pending
    assert pending is not None
    step = (
        order_processing_workflow.step(COMPENSATED_STEP[pending.step])
        if pending.phase is Phase.COMPENSATION
        else order_processing_workflow.step(pending.step)
    )
    operation = step.template.operation(pending.operation)
    if action == "success":
        return operation.success.model_validate(ANY_SUCCESS)
    # failure[0] is the generic (transient) failure, the last one a business decline.
    cls = operation.failure[0] if action == "retryable" else operation.failure[-1]
    fields: dict[str, Any] = {"reason": action, "retryable": action == "retryable", "sku": "sku-mug"}
    return cls.model_validate(fields)


def act(scenario: SagaScenario, action: str, declined: set[tuple[str, str]]) -> None:
    state = scenario.state
    if action == "cancel":
        scenario.when_cancelled()
    elif action == "resume":
        scenario.when_resumed()
    elif action == "duplicate":
        if scenario.replies:
            scenario.when_duplicate_reply()
    elif state.pending is None:
        return
    elif action == "timeout" or not state.pending.sent:
        scenario.when_timeout()
    else:
        pending = state.pending
        scenario.when_reply(reply_for(scenario, action))
        if action == "decline" and pending.phase is Phase.FORWARD:
            declined.add((pending.step, pending.provider))
    last = scenario.last
    assert len(last.timers) <= 1
    if not last.changed:
        assert last.state is state
        assert last.outgoing == ()


def drive_to_the_end(scenario: SagaScenario) -> None:
    for _ in range(200):
        status = scenario.state.status
        if status.terminal:
            return
        if status == "failed":
            scenario.when_resumed()
        else:
            act(scenario, "success", set())
    raise AssertionError(f"saga did not finish: {scenario.state.status}")


@settings(max_examples=150, deadline=None)
@given(st.lists(ACTIONS, max_size=40))
def test_declined_steps_are_never_compensated_and_every_saga_finishes(actions: list[str]) -> None:
    scenario = given_saga(order_processing_workflow, ORDER)
    declined: set[tuple[str, str]] = set()
    for action in actions:
        act(scenario, action, declined)
    drive_to_the_end(scenario)

    assert scenario.state.status in ("completed", "compensated", "cancelled")
    commands = [out.envelope for out in scenario.sent]
    forward_sent = {(e.step, e.provider) for e in commands if e.step not in COMPENSATED_STEP}
    for envelope in commands:
        if envelope.step in COMPENSATED_STEP:
            undone = (COMPENSATED_STEP[envelope.step], envelope.provider)
            assert undone not in declined, f"{envelope.step} sent for a declined step: {undone}"
            assert undone in forward_sent, f"{envelope.step} sent for a step never tried: {undone}"
    steps = [s.name for s in order_processing_workflow.steps]
    order_of_undo = [steps.index(task.step) for task in scenario.state.compensations]
    assert order_of_undo == sorted(order_of_undo, reverse=True)
    if scenario.state.status == "completed":
        # A completed saga undid exactly what the providers it failed over from may have done.
        uncertain = {(o.step, o.provider) for o in scenario.state.outcomes if o.outcome == "uncertain"}
        assert {(t.step, t.provider) for t in scenario.state.compensations} == uncertain
        assert all(task.done for task in scenario.state.compensations)
