"""The harness fails loudly and readably: what was expected, what was sent, where the saga is."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest
from sagaline.contracts.templates.inventory import StockReserved
from sagaline.saga import testing
from sagaline.saga.testing import EPOCH, SagaScenario, given
from sagaline.saga.workflows import OrderData, order_processing_workflow

pytestmark = pytest.mark.unit


@pytest.fixture
def scenario(order: OrderData) -> SagaScenario:
    return given(order_processing_workflow, order)


def test_a_wrong_command_names_what_was_sent_instead(scenario: SagaScenario) -> None:
    with pytest.raises(AssertionError) as caught:
        scenario.expect_command("reserve_inventory", to="warehouse")
    message = str(caught.value)
    assert message.startswith(
        "expected command 'reserve_inventory' to 'warehouse', but the saga sent: "
        "reserve_inventory to 'reservation' attempt 1 (inventory.ReserveStock)"
    )
    assert "saga is running, waiting on reserve_inventory" in message


def test_a_missing_command_says_nothing_was_sent(scenario: SagaScenario) -> None:
    scenario.expect_command("reserve_inventory")
    with pytest.raises(
        AssertionError, match=r"expected command 'charge_payment', but no \(further\) command was sent"
    ):
        scenario.expect_command("charge_payment")


def test_a_payload_mismatch_shows_both_payloads(scenario: SagaScenario) -> None:
    with pytest.raises(
        AssertionError, match=r"payload differs: wanted \{'order_id': 'ord-2'\}, got \{'order_id': 'ord-1'"
    ):
        scenario.expect_command("reserve_inventory", payload={"order_id": "ord-2"})


def test_unexpected_commands_fail_expect_no_command(scenario: SagaScenario) -> None:
    with pytest.raises(AssertionError, match="expected no command, but the saga sent: reserve_inventory to"):
        scenario.expect_no_command()


def test_a_wrong_state_shows_the_actual_one_and_recent_history(scenario: SagaScenario) -> None:
    with pytest.raises(AssertionError) as caught:
        scenario.expect_state("completed")
    assert "expected the saga to be completed" in str(caught.value)
    assert "saga is running" in str(caught.value)
    assert "recent: started, command_sent(reserve_inventory)" in str(caught.value)


def test_names_not_in_the_definition_are_rejected(scenario: SagaScenario) -> None:
    with pytest.raises(AssertionError, match="has no step 'charge'"):
        scenario.expect_command("charge")
    with pytest.raises(AssertionError, match="has no compensation 'reserve_inventory'"):
        scenario.expect_compensation("reserve_inventory")


def test_expect_ignored_fails_when_the_event_was_applied(scenario: SagaScenario) -> None:
    scenario.when_reply(StockReserved(order_id="ord-1", reservation_id="r"))
    with pytest.raises(AssertionError, match="expected the last event to be ignored, but it was applied"):
        scenario.expect_ignored()
    scenario.when_duplicate_reply()
    with pytest.raises(AssertionError, match="but the reason was 'duplicate reply"):
        scenario.expect_ignored("stale timer")


def test_advance_fires_a_timer_only_once_it_is_due(scenario: SagaScenario) -> None:
    scenario.expect_command("reserve_inventory", attempt=1)
    scenario.advance(4.9).expect_no_command()
    # The reply deadline passes at 5 s; attempt 2 goes out after 0.1 s of backoff.
    scenario.advance(0.1).expect_no_command()
    scenario.advance(0.1).expect_command("reserve_inventory", attempt=2)
    assert scenario.sent[-1].envelope.occurred_at == EPOCH + timedelta(seconds=5.1)


def test_data_expectations_show_the_differences(scenario: SagaScenario) -> None:
    with pytest.raises(
        AssertionError, match=r"expected data \{'order_id': 'x'\}, but found \{'order_id': 'ord-1'\}"
    ):
        scenario.expect_data(order_id="x")
    scenario.expect_data(order_id="ord-1", amount_cents=2599)


def test_the_example_in_the_harness_documentation_runs(order: OrderData) -> None:
    doc = testing.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\n``", 1)[0]
    namespace: dict[str, object] = {}
    exec(textwrap.dedent(block), namespace)
    example = namespace["test_when_payment_declined_inventory_is_released"]
    assert callable(example)
    example(order)
