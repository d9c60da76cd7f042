"""Several versions of one workflow side by side: sagas finish on the version they started on."""

from __future__ import annotations

import pytest
from sagaline.contracts.templates.inventory import StockReserved
from sagaline.contracts.templates.notification import NotificationSent
from sagaline.contracts.templates.payment_gateway import PaymentCharged
from sagaline.contracts.templates.shipping import ShipmentCreated
from sagaline.saga import UnknownWorkflow, WorkflowDefinition, WorkflowRegistry
from sagaline.saga.testing import given
from sagaline.saga.workflows import OrderData, order_processing_workflow, register_default_workflows

pytestmark = pytest.mark.unit


def without_confirmation() -> WorkflowDefinition:
    raw = order_processing_workflow.to_dict()
    raw["version"] = "1.1.0"
    raw["steps"] = raw["steps"][:3]
    return WorkflowDefinition.from_dict(raw)


def test_a_saga_started_on_one_version_finishes_on_it_after_a_newer_one_is_registered(
    order: OrderData,
) -> None:
    registry = register_default_workflows(WorkflowRegistry())
    old = given(registry.latest("order_processing_workflow"), order, saga_id="old")
    old.when_reply(StockReserved(order_id="ord-1", reservation_id="r"))

    registry.register(without_confirmation())
    assert registry.versions("order_processing_workflow") == ["1.0.0", "1.1.0"]
    assert registry.latest("order_processing_workflow").version == "1.1.0"

    state = old.state
    old.definition = registry.for_saga(state.workflow, state.workflow_version)
    shipped = ShipmentCreated(order_id="ord-1", shipment_id="s", tracking_number="t")
    (
        old.when_reply(PaymentCharged(order_id="ord-1", charge_id="c", amount_cents=2599, currency="EUR"))
        .when_reply(shipped)
        .expect_command("reserve_inventory")
        .expect_command("charge_payment")
        .expect_command("create_shipment")
        .expect_command("send_confirmation")
        .when_reply(NotificationSent(order_id="ord-1", delivery_id="d"))
        .expect_state("completed")
    )
    assert old.state.workflow_version == "1.0.0"

    new = given(registry.latest("order_processing_workflow"), order, saga_id="new")
    (
        new.when_reply(StockReserved(order_id="ord-1", reservation_id="r"))
        .when_reply(PaymentCharged(order_id="ord-1", charge_id="c", amount_cents=2599, currency="EUR"))
        .when_reply(shipped)
        .expect_state("completed")
    )
    assert [e.envelope.step for e in new.sent][-1] == "create_shipment"


def test_a_released_version_cannot_be_replaced_but_registering_it_again_is_harmless() -> None:
    registry = register_default_workflows(WorkflowRegistry())
    register_default_workflows(registry)
    changed = WorkflowDefinition.from_dict({**without_confirmation().to_dict(), "version": "1.0.0"})
    with pytest.raises(ValueError, match=r"order_processing_workflow@1.0.0 is already registered"):
        registry.register(changed)
    assert registry.get("order_processing_workflow", "1.0.0") == order_processing_workflow


def test_lookups_of_unknown_workflows_say_what_is_registered() -> None:
    registry = register_default_workflows(WorkflowRegistry())
    with pytest.raises(
        UnknownWorkflow, match=r"no workflow order_processing_workflow@2.0.0 \(registered versions: 1.0.0\)"
    ):
        registry.get("order_processing_workflow", "2.0.0")
    with pytest.raises(
        UnknownWorkflow, match=r"no workflow called 'refunds' \(registered: order_processing_workflow\)"
    ):
        registry.latest("refunds")
    assert "order_processing_workflow@1.0.0" in registry
    assert "order_processing_workflow@1.1.0" not in registry
    assert list(registry) == [order_processing_workflow]


def test_versions_are_ordered_by_semver_not_text() -> None:
    registry = WorkflowRegistry()
    for version in ("1.10.0", "1.9.0", "1.0.0"):
        registry.register(
            WorkflowDefinition.from_dict({**order_processing_workflow.to_dict(), "version": version})
        )
    assert registry.versions("order_processing_workflow") == ["1.0.0", "1.9.0", "1.10.0"]
    assert registry.latest("order_processing_workflow").version == "1.10.0"


def test_the_default_workflow_is_registered_with_its_data_model() -> None:
    registry = register_default_workflows(WorkflowRegistry())
    assert registry.data_model("order_processing_workflow", "1.0.0") is OrderData
    assert registry.data_model("order_processing_workflow", "9.9.9") is None
