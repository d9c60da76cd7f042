"""The ``sagaline`` CLI against a real coordinator process: tables, --json, and error exits."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from sagaline.saga.cli import app
from typer.testing import CliRunner

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(launch):
    return launch()


@pytest.fixture
def sagaline(server, tmp_path, order):
    """Run the CLI against ``server`` (URL and token from the environment, as a user would)."""
    data_file = tmp_path / "order.json"
    data_file.write_text(json.dumps(order), encoding="utf-8")
    env = {"SAGALINE_API_URL": server.url, "SAGALINE_API_TOKEN": server.token, "COLUMNS": "200"}

    def run(*args, **extra_env):
        args = [a.replace("@ORDER", f"@{data_file}") for a in args]
        return CliRunner().invoke(app, list(args), env={**env, **extra_env})

    return run


def _key():
    return f"cli-{uuid.uuid4().hex[:8]}"


def _start_json(sagaline):
    result = sagaline("start", "order_processing_workflow", "--key", _key(), "--data", "@ORDER", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_start_prints_the_saga_as_tables_and_a_repeat_says_it_was_already_started(sagaline, order):
    key = _key()
    first = sagaline("start", "order_processing_workflow", "--key", key, "--data", "@ORDER")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("started saga ")
    for expected in ("reserve_inventory", "in_progress", "charge_payment", "stripe, paypal", "****"):
        assert expected in first.stdout
    assert order["card_token"] not in first.stdout
    saga_id = first.stdout.split()[2]

    again = sagaline("start", "order_processing_workflow", "--key", key, "--data", "@ORDER")
    assert again.exit_code == 0
    assert again.stdout.startswith(f"already started with this key: saga {saga_id} running")


def test_status_json_is_the_apis_view_with_secrets_masked(sagaline, order):
    saga_id = _start_json(sagaline)["saga_id"]
    result = sagaline("status", saga_id, "--json")
    assert result.exit_code == 0
    view = json.loads(result.stdout)
    assert view["saga_id"] == saga_id
    assert (view["status"], view["current_step"], view["attempt"]) == ("running", "reserve_inventory", 1)
    assert view["data"]["card_token"] == "****"

    table = sagaline("status", saga_id)
    assert table.exit_code == 0
    assert f"Saga {saga_id}" in table.stdout
    assert "reserve_inventory (forward), attempt 1 on reservation" in table.stdout
    assert "History" in table.stdout


def test_list_shows_a_table_with_the_next_page_and_json_for_machines(sagaline):
    ids = {_start_json(sagaline)["saga_id"] for _ in range(2)}

    table = sagaline("list", "--limit", "1")
    assert table.exit_code == 0
    assert "next page: --offset 1" in table.stdout
    assert "order_processing_workflow@1.0.0" in table.stdout

    page = json.loads(sagaline("list", "--status", "running", "--limit", "500", "--json").stdout)
    assert ids <= {item["saga_id"] for item in page["items"]}
    assert {item["status"] for item in page["items"]} == {"running"}


def test_cancel_prints_the_new_state_and_a_second_cancel_exits_1_with_the_409(sagaline):
    saga_id = _start_json(sagaline)["saga_id"]
    cancelled = sagaline("cancel", saga_id, "--reason", "customer called")
    assert cancelled.exit_code == 0
    assert cancelled.stdout.startswith(f"cancelled saga {saga_id}: now compensating")
    assert "cancelled by operator: customer called" in cancelled.stdout

    again = sagaline("cancel", saga_id)
    assert again.exit_code == 1
    assert "409 Conflict: cannot cancel a saga that is compensating" in again.stderr
    assert again.stdout == ""


def test_resuming_a_running_saga_exits_1_with_the_reason(sagaline):
    saga_id = _start_json(sagaline)["saga_id"]
    result = sagaline("resume", saga_id, "--json")
    assert result.exit_code == 1
    assert "409 Conflict: only a failed saga can be resumed; saga is running" in result.stderr


def test_status_of_an_unknown_saga_exits_1_with_the_404(sagaline):
    result = sagaline("status", "no-such-saga")
    assert result.exit_code == 1
    assert "404 Not Found: no saga no-such-saga" in result.stderr


def test_bad_data_exits_1_naming_the_field(sagaline, order):
    data = json.dumps({**order, "amount_cents": 0})
    result = sagaline("start", "order_processing_workflow", "--key", _key(), "--data", data)
    assert result.exit_code == 1
    assert "422 Unprocessable Entity: invalid request: data.amount_cents:" in result.stderr


def test_an_unknown_workflow_exits_1_with_the_404(sagaline):
    result = sagaline("start", "no_such_workflow", "--key", _key(), "--data", "{}")
    assert result.exit_code == 1
    assert "404 Not Found: no workflow called 'no_such_workflow'" in result.stderr


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_a_missing_or_wrong_token_exits_1_saying_how_to_pass_one(sagaline, token):
    result = sagaline("list", SAGALINE_API_TOKEN=token)
    assert result.exit_code == 1
    assert "401 Unauthorized" in result.stderr
    assert "pass --token or set SAGALINE_API_TOKEN" in result.stderr


def test_the_token_option_beats_the_environment(sagaline, server):
    result = sagaline("list", "--token", server.token, SAGALINE_API_TOKEN="wrong-token")
    assert result.exit_code == 0


def test_an_api_that_refuses_connections_exits_3(sagaline):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe socket is closed.
    result = sagaline("list", "--api", f"http://127.0.0.1:{port}")
    assert result.exit_code == 3
    assert f"cannot reach the Sagaline API at http://127.0.0.1:{port}" in result.stderr
