"""``sagaline-contracts``: export the templates' JSON Schemas and check versions against them.

Exit codes: 0 consistent, 1 version/schema problems (one line each), 2 unreadable schema files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sagaline.contracts.registry import TEMPLATES
from sagaline.contracts.schema_files import SchemaFileError, default_schema_dir, schema_path, write_schemas
from sagaline.contracts.versioning import check_schema_dir

app = typer.Typer(
    name="sagaline-contracts",
    help="Template contract schemas: export them, and check versions against the checked-in ones.",
    no_args_is_help=True,
    add_completion=False,
)

SchemasOption = Annotated[
    Path | None,
    typer.Option(
        "--schemas",
        file_okay=False,
        help="Directory of <template>.json schema files [default: contracts/schemas of this checkout].",
    ),
]


@app.command()
def export(schemas: SchemasOption = None) -> None:
    """Write the JSON Schema of every message of every template, one file per template."""
    directory = schemas or default_schema_dir()
    changed = write_schemas(TEMPLATES.values(), directory)
    for name, was_changed in sorted(changed.items()):
        state = "written" if was_changed else "unchanged"
        typer.echo(f"{schema_path(directory, name)}: {TEMPLATES[name].contract} {state}")


@app.command()
def check(
    schemas: SchemasOption = None,
    frozen: Annotated[
        bool,
        typer.Option(
            "--frozen",
            help="Also fail when a schema file differs from a fresh export (for CI on a commit).",
        ),
    ] = False,
) -> None:
    """Compare the current models with the checked-in schemas; fail on an unjustified version."""
    directory = schemas or default_schema_dir()
    try:
        report = check_schema_dir(directory, TEMPLATES.values(), frozen=frozen)
    except SchemaFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not report.ok:
        for problem in report.problems:
            typer.echo(problem, err=True)
        typer.echo(f"{len(report.problems)} problem(s) in {directory}", err=True)
        raise typer.Exit(1)
    for template_check in report.checks:
        typer.echo(template_check.summary())
    typer.echo(f"ok: {len(report.checks)} template(s) consistent with {directory}")


def main() -> None:
    app()
