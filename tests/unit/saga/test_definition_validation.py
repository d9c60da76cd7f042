"""Saga definitions refuse to exist when invalid, and say exactly why."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.templates import inventory, notification, payment_gateway
from sagaline.contracts.templates.inventory import StockReserved, StockUnavailable
from sagaline.saga import DefinitionError, WorkflowDefinition, workflow
from sagaline.saga.dsl import StepBuilder
from sagaline.saga.workflows import order_processing_workflow

pytestmark = pytest.mark.unit

RESERVE = {"order_id": "$.order_id", "items": "$.items"}


def reserve(name: str = "reserve_inventory", version: str = "1.0.0") -> StepBuilder:
    return (
        workflow("orders", version)
        .step(name)
        .invoke(inventory.TEMPLATE, "reserve", providers=["reservation"], command=RESERVE)
    )


def problems_of(builder: StepBuilder) -> str:
    with pytest.raises(DefinitionError) as caught:
        builder.build()
    return str(caught.value)


def test_a_step_whose_operation_declares_a_compensation_must_have_one() -> None:
    message = problems_of(reserve())
    assert "workflow orders@1.0.0 is invalid" in message
    assert (
        "step 'reserve_inventory': inventory.reserve must be compensated (its template declares 'release')"
        in message
    )


def test_an_unknown_template_is_named_with_the_known_ones() -> None:
    raw = order_processing_workflow.to_dict()
    raw["steps"][0]["template"] = "billing"
    with pytest.raises(DefinitionError, match=r"unknown template 'billing' \(known: inventory, notification"):
        WorkflowDefinition.from_dict(raw)


def test_an_unknown_operation_is_named_with_the_template_operations() -> None:
    builder = (
        workflow("orders", "1.0.0").step("s").invoke(inventory.TEMPLATE, "hold", providers=["r"], command={})
    )
    assert "template 'inventory' has no operation 'hold' (operations: reserve, release)" in problems_of(
        builder
    )


def test_a_compensation_must_be_a_compensation_operation() -> None:
    builder = reserve().with_compensation("reserve", command=RESERVE)
    assert "inventory.reserve is not a compensation operation (use 'release')" in problems_of(builder)


def test_an_unknown_compensation_operation_is_reported() -> None:
    builder = reserve().with_compensation("restock", command={"order_id": "$.order_id"})
    assert "compensation: template 'inventory' has no operation 'restock'" in problems_of(builder)


def test_step_names_must_be_unique_including_compensation_names() -> None:
    builder = (
        reserve()
        .with_compensation("release", name="send", command={"order_id": "$.order_id"})
        .step("send")
        .invoke(
            notification.TEMPLATE,
            "send",
            providers=["email"],
            command={"order_id": "$.order_id", "recipient": "$.email", "subject": "Hi", "body": "Hello"},
        )
    )
    assert "duplicate step name 'send'" in problems_of(builder)


def test_duplicate_forward_step_names_are_reported() -> None:
    builder = (
        reserve()
        .with_compensation("release", command={"order_id": "$.order_id"})
        .step("reserve_inventory")
        .invoke(inventory.TEMPLATE, "reserve", providers=["other"], command=RESERVE)
        .with_compensation("release", name="release_again", command={"order_id": "$.order_id"})
    )
    assert "duplicate step name 'reserve_inventory'" in problems_of(builder)


def test_providers_must_not_be_empty_or_repeated() -> None:
    empty = (
        workflow("orders", "1.0.0").step("s").invoke(inventory.TEMPLATE, "release", providers=[], command={})
    )
    assert "step 's': providers must be a non-empty list of derived job names" in problems_of(empty)
    twice = (
        workflow("orders", "1.0.0")
        .step("s")
        .invoke(inventory.TEMPLATE, "release", providers=["a", "a"], command={"order_id": "$.id"})
    )
    assert "provider 'a' is listed twice" in problems_of(twice)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "one", "1.0.0.0"])
def test_the_workflow_version_must_be_semver(version: str) -> None:
    message = problems_of(reserve(version=version).with_compensation("release", command={"order_id": "$.id"}))
    assert f"workflow version {version!r} is not semver" in message


def test_command_fields_are_checked_against_the_command_model() -> None:
    builder = (
        workflow("orders", "1.0.0")
        .step("charge")
        .invoke(
            payment_gateway.TEMPLATE,
            "charge",
            providers=["stripe"],
            command={"order_id": "$.order_id", "amount": "$.amount_cents", "card_token": "$.card"},
        )
        .with_compensation("refund", command={"order_id": "$.order_id", "amount_cents": 0})
    )
    message = problems_of(builder)
    assert "step 'charge' command: 'amount' is not a field of payment_gateway.ChargePayment" in message
    assert (
        "step 'charge' command: required field 'amount_cents' of payment_gateway.ChargePayment is not mapped"
        in message
    )
    assert (
        "compensation command: literal 0 for 'amount_cents' is invalid: Input should be greater than 0"
        in message
    )


def test_paths_must_be_well_formed() -> None:
    builder = (
        workflow("orders", "1.0.0")
        .step("s")
        .invoke(inventory.TEMPLATE, "release", providers=["r"], command={"order_id": "$.order id"})
    )
    assert "field 'order_id': '$.order id' is not a path" in problems_of(builder)


def test_reply_mappings_read_fields_of_the_success_reply() -> None:
    builder = reserve().on_reply(StockReserved, {"reservation": "$.reservation_ref"})
    message = problems_of(builder.with_compensation("release", command={"order_id": "$.order_id"}))
    assert (
        "'reservation' reads '$.reservation_ref', but 'reservation_ref' is not a field of "
        "inventory.StockReserved" in message
    )


def test_on_reply_must_name_the_success_reply() -> None:
    with pytest.raises(
        DefinitionError, match=r"must name the success reply of inventory\.reserve, which is StockReserved"
    ):
        reserve().on_reply(StockUnavailable, {"sku": "$.sku"})


def test_on_reply_before_invoke_is_an_error() -> None:
    with pytest.raises(DefinitionError, match=r"on_reply\(\) needs invoke\(\) first"):
        workflow("orders", "1.0.0").step("s").on_reply(StockReserved, {})


def test_a_step_without_invoke_is_reported() -> None:
    builder = workflow("orders", "1.0.0").step("lonely")
    with pytest.raises(DefinitionError, match=r"step 'lonely': no template to invoke"):
        builder.build()


def test_every_problem_is_reported_at_once() -> None:
    raw: dict[str, Any] = {
        "name": "Orders",
        "version": "x",
        "steps": [{"name": "a", "template": "nope", "operation": "x", "providers": []}],
        "colour": "blue",
    }
    with pytest.raises(DefinitionError) as caught:
        WorkflowDefinition.from_dict(raw)
    assert len(caught.value.problems) == 5, caught.value.problems


def test_a_step_written_for_another_major_of_its_template_is_refused() -> None:
    raw = order_processing_workflow.to_dict()
    raw["steps"][1]["template_version"] = "2.0.0"
    with pytest.raises(DefinitionError, match=r"written for payment_gateway@2.0.0 but payment_gateway@1.0.0"):
        WorkflowDefinition.from_dict(raw)


def test_a_bad_retry_policy_is_reported_with_its_field() -> None:
    raw = order_processing_workflow.to_dict()
    raw["steps"][0]["retry"]["max_attempts"] = 0
    with pytest.raises(
        DefinitionError, match="invalid retry policy: max_attempts: Input should be greater than"
    ):
        WorkflowDefinition.from_dict(raw)


def test_broken_yaml_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="not valid YAML"):
        WorkflowDefinition.from_yaml("name: [unclosed")


def test_timeout_and_retry_default_to_the_operation_and_can_be_overridden() -> None:
    policy = RetryPolicy(max_attempts=7, initial_interval=1.0, max_interval=4.0, non_retryable=("x.Y",))
    definition = (
        reserve()
        .with_compensation("release", command={"order_id": "$.order_id"}, timeout=2.5)
        .step("again")
        .invoke(inventory.TEMPLATE, "reserve", providers=["r"], command=RESERVE, timeout=1, retry=policy)
        .with_compensation("release", command={"order_id": "$.order_id"}, retry=policy)
        .build()
    )
    reserve_op = inventory.TEMPLATE.operation("reserve")
    first, second = definition.steps
    assert (first.timeout, first.retry) == (reserve_op.timeout, reserve_op.retry)
    assert first.compensation is not None
    assert first.compensation.timeout == 2.5
    assert (second.timeout, second.retry) == (1.0, policy)
    assert second.compensation is not None
    assert second.compensation.retry == policy
    assert second.compensation.name == "compensate_again"


def test_a_definition_round_trips_through_a_dict_and_yaml_unchanged() -> None:
    raw = order_processing_workflow.to_dict()
    assert WorkflowDefinition.from_dict(raw) == order_processing_workflow
    assert WorkflowDefinition.from_dict(raw).to_dict() == raw
    text = order_processing_workflow.to_yaml()
    assert WorkflowDefinition.from_yaml(text) == order_processing_workflow
    assert WorkflowDefinition.from_yaml(text).to_yaml() == text
    assert order_processing_workflow.key == "order_processing_workflow@1.0.0"


def test_a_template_given_to_invoke_is_used_even_if_the_registry_has_another_version() -> None:
    newer = dataclasses.replace(inventory.TEMPLATE, version="1.1.0")
    definition = (
        workflow("orders", "1.0.0")
        .step("reserve")
        .invoke(newer, "reserve", providers=["r"], command=RESERVE)
        .with_compensation("release", command={"order_id": "$.order_id"})
        .build()
    )
    assert definition.steps[0].template.contract == "inventory@1.1.0"
    with pytest.raises(
        DefinitionError, match=r"two templates called 'inventory' are invoked \(1.1.0 and 1.0.0\)"
    ):
        (
            workflow("orders", "1.0.0")
            .step("a")
            .invoke(newer, "release", providers=["r"], command={"order_id": "$.id"})
            .step("b")
            .invoke(inventory.TEMPLATE, "release", providers=["r"], command={"order_id": "$.id"})
        )
