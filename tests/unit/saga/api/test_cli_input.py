"""The CLI refuses bad input itself, before any request: usage errors exit 2 and say why."""

from __future__ import annotations

import pytest
from sagaline.saga.cli import app
from typer.testing import CliRunner

pytestmark = pytest.mark.unit

# Nothing listens here; a command that reached the network would exit 3, not 2.
UNUSED_API = "http://127.0.0.1:9"


def _start(runner_input=None, *data_args):
    args = ["start", "order_processing_workflow", "--key", "k1", "--api", UNUSED_API, *data_args]
    return CliRunner().invoke(app, args, input=runner_input, env={"COLUMNS": "200"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "--data is not valid JSON"),
        ("[1, 2]", "--data must be a JSON object"),
        ("@/no/such/file.json", "cannot read /no/such/file.json"),
    ],
)
def test_when_the_data_is_unusable_start_exits_2_saying_why(data, message):
    result = _start(None, "--data", data)
    assert result.exit_code == 2
    assert message in result.output


def test_data_from_a_file_that_is_not_json_names_the_file(tmp_path):
    bad = tmp_path / "order.json"
    bad.write_text("order_id=1", encoding="utf-8")
    result = _start(None, "--data", f"@{bad}")
    assert result.exit_code == 2
    assert f"{bad} is not valid JSON" in result.output


def test_data_from_stdin_is_read_and_sent(tmp_path):
    # Valid data gets as far as the network: the unused port answers nothing, so exit 3.
    result = _start('{"order_id": "o-1"}', "--data", "@-")
    assert result.exit_code == 3
    assert f"cannot reach the Sagaline API at {UNUSED_API}" in result.stderr


def test_start_requires_a_key():
    result = CliRunner().invoke(app, ["start", "order_processing_workflow", "--data", "{}"])
    assert result.exit_code == 2
    assert "--key" in result.output


def test_list_refuses_an_unknown_status():
    result = CliRunner().invoke(app, ["list", "--status", "sleeping", "--api", UNUSED_API])
    assert result.exit_code == 2
    assert "sleeping" in result.output
