"""The CI guard: the schema files in git are exactly what the current models export."""

import subprocess
import sys
from pathlib import Path

import pytest
from sagaline.contracts import TEMPLATES
from sagaline.contracts.cli import app
from sagaline.contracts.schema_files import default_schema_dir, schema_path
from sagaline.contracts.versioning import check_schema_dir
from typer.testing import CliRunner

pytestmark = pytest.mark.contract

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "schemas"


def test_default_schema_dir_is_the_checked_in_one() -> None:
    assert default_schema_dir() == SCHEMAS


def test_checked_in_schemas_match_the_current_models() -> None:
    report = check_schema_dir(SCHEMAS, TEMPLATES.values(), frozen=True)
    assert report.problems == []
    assert [c.template for c in report.checks] == sorted(TEMPLATES)


def test_every_template_has_a_schema_file_with_every_message() -> None:
    for name, t in TEMPLATES.items():
        text = schema_path(SCHEMAS, name).read_text(encoding="utf-8")
        for message_type in [*t.command_types(), *t.reply_types()]:
            assert f'"{message_type}"' in text


def test_check_frozen_passes_through_the_installed_entry_point() -> None:
    entry_point = Path(sys.executable).parent / "sagaline-contracts"
    result = subprocess.run(
        [str(entry_point), "check", "--frozen"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "ok: 4 template(s) consistent" in result.stdout


def test_check_frozen_passes_in_process() -> None:
    result = CliRunner().invoke(app, ["check", "--frozen", "--schemas", str(SCHEMAS)])
    assert result.exit_code == 0, result.output
    assert "payment_gateway 1.0.0: schemas unchanged" in result.stdout
