"""``sagaline-contracts export`` / ``check`` exit codes and output, on a scratch schema directory."""

import json
from pathlib import Path

import pytest
from sagaline.contracts import TEMPLATES
from sagaline.contracts.cli import app
from typer.testing import CliRunner

pytestmark = pytest.mark.contract

runner = CliRunner()


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    directory = tmp_path / "schemas"
    result = runner.invoke(app, ["export", "--schemas", str(directory)])
    assert result.exit_code == 0, result.output
    return directory


def edit(path: Path, change: dict[str, object]) -> None:
    doc = json.loads(path.read_text())
    doc.update(change)
    path.write_text(json.dumps(doc))


def test_export_writes_one_stable_file_per_template(schemas: Path) -> None:
    assert sorted(p.name for p in schemas.iterdir()) == sorted(f"{name}.json" for name in TEMPLATES)
    text = (schemas / "inventory.json").read_text()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    again = runner.invoke(app, ["export", "--schemas", str(schemas)])
    assert "inventory@1.0.0 unchanged" in again.stdout
    assert (schemas / "inventory.json").read_text() == text


def test_check_passes_right_after_export(schemas: Path) -> None:
    result = runner.invoke(app, ["check", "--frozen", "--schemas", str(schemas)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("ok: 4 template(s) consistent")


def test_when_a_field_disappears_without_a_major_bump_check_exits_1_naming_it(schemas: Path) -> None:
    # The recorded schema has a field the current model no longer has, at the same version.
    path = schemas / "inventory.json"
    doc = json.loads(path.read_text())
    doc["messages"]["inventory.ReleaseStock"]["properties"]["warehouse"] = {"type": "string"}
    doc["messages"]["inventory.ReleaseStock"]["required"].append("warehouse")
    path.write_text(json.dumps(doc))

    result = runner.invoke(app, ["check", "--schemas", str(schemas)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "inventory: inventory.ReleaseStock field warehouse: field removed "
        "(needs a major bump; version 1.0.0 -> 1.0.0)",
        f"1 problem(s) in {schemas}",
    ]


def test_when_the_version_changed_but_the_schemas_did_not_check_exits_1(schemas: Path) -> None:
    edit(schemas / "shipping.json", {"version": "0.9.0"})
    result = runner.invoke(app, ["check", "--schemas", str(schemas)])
    assert result.exit_code == 1
    assert "shipping: major bump (version 0.9.0 -> 1.0.0) but no message schema changed" in result.stderr


def test_frozen_check_fails_when_a_file_differs_from_a_fresh_export(schemas: Path) -> None:
    path = schemas / "notification.json"
    path.write_text(json.dumps(json.loads(path.read_text())))  # same content, other formatting
    assert runner.invoke(app, ["check", "--schemas", str(schemas)]).exit_code == 0
    result = runner.invoke(app, ["check", "--frozen", "--schemas", str(schemas)])
    assert result.exit_code == 1
    assert "notification: recorded schemas are out of date" in result.stderr


def test_frozen_check_fails_when_a_template_has_no_file(schemas: Path) -> None:
    (schemas / "shipping.json").unlink()
    assert runner.invoke(app, ["check", "--schemas", str(schemas)]).exit_code == 0
    result = runner.invoke(app, ["check", "--frozen", "--schemas", str(schemas)])
    assert result.exit_code == 1
    assert "shipping: has no recorded schemas" in result.stderr


def test_schema_file_of_a_removed_template_fails_the_check(schemas: Path) -> None:
    (schemas / "billing.json").write_text(
        json.dumps({"template": "billing", "version": "1.0.0", "messages": {}})
    )
    result = runner.invoke(app, ["check", "--schemas", str(schemas)])
    assert result.exit_code == 1
    assert result.stderr.startswith("billing: template removed")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"template": "inventory"}', "missing keys messages, version"),
        ('{"template": "stock", "version": "1.0.0", "messages": {}}', "holds template 'stock'"),
        ('{"template": "inventory", "version": "1.0.0", "messages": []}', "'messages' must map"),
    ],
)
def test_unreadable_schema_file_exits_2_with_the_reason(schemas: Path, content: str, reason: str) -> None:
    (schemas / "inventory.json").write_text(content)
    result = runner.invoke(app, ["check", "--schemas", str(schemas)])
    assert result.exit_code == 2
    assert reason in result.stderr
    assert "inventory.json" in result.stderr


def test_missing_schema_directory_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "--schemas", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
