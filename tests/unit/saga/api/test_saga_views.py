"""What the API shows of a saga, built from pure transitions: no broker, no Redis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sagaline.saga import CancelSaga, StartSaga, WorkflowRegistry, transition
from sagaline.saga.api_views import MASK, SagaViews, mask, sensitive_paths
from sagaline.saga.workflows import OrderData, order_processing_workflow, register_default_workflows

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def views():
    return SagaViews(register_default_workflows(WorkflowRegistry()))


@pytest.fixture
def started(order):
    result = transition(order_processing_workflow, None, StartSaga("saga-1", order), NOW)
    assert result.state is not None
    return result.state


def test_card_token_and_email_are_sensitive_in_the_order_workflow():
    assert sensitive_paths(order_processing_workflow, OrderData) == {("card_token",), ("customer_email",)}


def test_data_copied_into_a_sensitive_command_field_is_sensitive_without_a_data_model():
    # ChargePayment.card_token <- $.card_token, SendNotification.recipient <- $.customer_email
    assert sensitive_paths(order_processing_workflow, None) == {("card_token",), ("customer_email",)}


def test_mask_replaces_values_at_nested_paths_and_leaves_the_rest_and_the_original_alone():
    data = {"a": {"b": "secret", "c": "plain"}, "items": [{"s": "x"}, {"s": "y"}], "gone": None}
    masked = mask(data, [("a", "b"), ("items", "1", "s"), ("missing", "path"), ("gone",)])
    assert masked == {"a": {"b": MASK, "c": "plain"}, "items": [{"s": "x"}, {"s": MASK}], "gone": None}
    assert data["a"]["b"] == "secret"


def test_a_path_to_the_whole_data_masks_every_field():
    assert mask({"x": 1, "y": "two"}, [()]) == {"x": MASK, "y": MASK}


def test_a_new_saga_waits_on_its_first_step_with_the_rest_remaining(views, started, order):
    view = views.view(started)
    assert (view.current_step, view.attempt, view.provider) == ("reserve_inventory", 1, "reservation")
    assert view.remaining_steps == ["charge_payment", "create_shipment", "send_confirmation"]
    assert [s.state for s in view.steps] == ["in_progress", "pending", "pending", "pending"]
    assert view.data["card_token"] == MASK
    assert view.data["order_id"] == order.order_id
    assert view.compensation is None


def test_a_cancelled_saga_shows_its_compensation_progress_and_no_remaining_steps(views, started):
    cancelled = transition(order_processing_workflow, started, CancelSaga("saga-1", "test"), NOW)
    assert cancelled.state is not None
    view = views.view(cancelled.state)
    assert view.status == "compensating"
    assert view.remaining_steps == []
    assert view.compensation is not None
    assert view.compensation.current == "release_inventory"
    assert [t.compensation for t in view.compensation.remaining] == ["release_inventory"]
    assert [s.state for s in view.steps] == ["uncertain", "not_run", "not_run", "not_run"]


def test_a_saga_of_an_unregistered_version_shows_no_data_values(views, started):
    orphan = started.model_copy(update={"workflow_version": "0.9.0"})
    view = views.view(orphan)
    assert view.steps == []
    assert set(view.data.values()) == {MASK}
    assert view.current_step == "reserve_inventory"


def test_the_summary_carries_no_data(views, started):
    assert "data" not in views.summary(started).model_dump()
