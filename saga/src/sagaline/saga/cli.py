"""``sagaline``: start, inspect, list, resume and cancel sagas through the coordinator's HTTP API.

Examples::

    sagaline start order_processing_workflow --key order-1001 --data @order.json
    sagaline status 0b6c2f3e-...            # tables; add --json for the API's JSON
    sagaline list --status failed --limit 20
    sagaline resume 0b6c2f3e-... --reason "refund service is back"
    sagaline cancel 0b6c2f3e-...

Exit status: 0 on success, 1 when the API refused the request (401, 404, 409, 422, ...), 2 on a
usage error (bad option, unreadable --data), 3 when the API could not be reached.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from sagaline.saga.cli_client import ApiError, ApiUnreachable, SagalineClient
from sagaline.saga.cli_render import json_text, page_table, saga_tables, status_text
from sagaline.saga.state import SagaStatus

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3

T = TypeVar("T")

app = typer.Typer(
    name="sagaline",
    help="Start and operate Sagaline sagas through the coordinator's HTTP API.",
    epilog="Exit status: 0 ok, 1 the API refused the request, 2 usage error, 3 API unreachable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Api = Annotated[
    str,
    typer.Option("--api", envvar="SAGALINE_API_URL", help="Base URL of the coordinator's API."),
]
Token = Annotated[
    str,
    typer.Option("--token", envvar="SAGALINE_API_TOKEN", help="The API's bearer token.", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of tables.")]
SagaId = Annotated[str, typer.Argument(help="The saga's id.", show_default=False)]
Reason = Annotated[str, typer.Option("--reason", help="Why; recorded in the saga's history.")]

DEFAULT_API = "http://127.0.0.1:8000"


@app.command()
def start(
    workflow: Annotated[str, typer.Argument(help="Workflow name, e.g. order_processing_workflow.")],
    data: Annotated[
        str,
        typer.Option("--data", help="Saga data: a JSON object, @FILE, or @- for stdin.", show_default=False),
    ],
    key: Annotated[
        str,
        typer.Option(
            "--key", help="Idempotency key: the same key returns the same saga.", show_default=False
        ),
    ],
    version: Annotated[
        str | None, typer.Option("--version", help="Workflow version (default: latest).")
    ] = None,
    api: Api = DEFAULT_API,
    token: Token = "",
    as_json: AsJson = False,
) -> None:
    """Start a saga (or show the one this key already started)."""
    body = _load_data(data)
    saga, created = _call(api, token, lambda client: client.start(workflow, body, key, version))
    if as_json:
        typer.echo(json_text(saga))
        return
    console = _out()
    verb = "started" if created else "already started with this key:"
    console.print(f"{verb} saga {saga['saga_id']} ", status_text(saga["status"]), sep="")
    console.print(saga_tables(saga))


@app.command()
def status(saga_id: SagaId, api: Api = DEFAULT_API, token: Token = "", as_json: AsJson = False) -> None:
    """Show one saga: state, current step, attempts, steps, compensation, history."""
    saga = _call(api, token, lambda client: client.get(saga_id))
    if as_json:
        typer.echo(json_text(saga))
    else:
        _out().print(saga_tables(saga))


@app.command(name="list")
def list_sagas(
    status: Annotated[SagaStatus | None, typer.Option("--status", help="Only sagas in this state.")] = None,
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="Only this workflow (name or name@version).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Sagas per page.")] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Sagas to skip.")] = 0,
    api: Api = DEFAULT_API,
    token: Token = "",
    as_json: AsJson = False,
) -> None:
    """List sagas, newest first."""
    page = _call(
        api,
        token,
        lambda client: client.list_sagas(status.value if status else None, workflow, offset, limit),
    )
    if as_json:
        typer.echo(json_text(page))
    else:
        _out().print(page_table(page))


@app.command()
def resume(
    saga_id: SagaId, reason: Reason = "", api: Api = DEFAULT_API, token: Token = "", as_json: AsJson = False
) -> None:
    """Retry the compensation of a failed saga."""
    _operate("resumed", api, token, as_json, lambda client: client.resume(saga_id, reason))


@app.command()
def cancel(
    saga_id: SagaId, reason: Reason = "", api: Api = DEFAULT_API, token: Token = "", as_json: AsJson = False
) -> None:
    """Roll back a running saga, or give up on a failed one."""
    _operate("cancelled", api, token, as_json, lambda client: client.cancel(saga_id, reason))


def main() -> None:
    app()


def _operate(
    done: str, api: str, token: str, as_json: bool, action: Callable[[SagalineClient], dict[str, Any]]
) -> None:
    saga = _call(api, token, action)
    if as_json:
        typer.echo(json_text(saga))
        return
    console = _out()
    console.print(f"{done} saga {saga['saga_id']}: now ", status_text(saga["status"]), sep="")
    console.print(saga_tables(saga))


def _call(api: str, token: str, action: Callable[[SagalineClient], T]) -> T:
    try:
        with SagalineClient(api, token) as client:
            return action(client)
    except ApiError as exc:
        _fail(str(exc), EXIT_REFUSED)
    except ApiUnreachable as exc:
        _fail(str(exc), EXIT_UNREACHABLE)


def _fail(message: str, code: int) -> NoReturn:
    Console(stderr=True, highlight=False).print(Text.assemble(("error: ", "bold red"), message))
    raise typer.Exit(code)


def _load_data(value: str) -> dict[str, Any]:
    source = {"@-": "stdin"}.get(value, value[1:] if value.startswith("@") else "--data")
    try:
        if value == "@-":
            text = sys.stdin.read()
        elif value.startswith("@"):
            text = Path(source).read_text(encoding="utf-8")
        else:
            text = value
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {source}: {exc.strerror}", param_hint="--data") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{source} is not valid JSON: {exc}", param_hint="--data") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{source} must be a JSON object", param_hint="--data")
    return data


def _out() -> Console:
    return Console(highlight=False)


if __name__ == "__main__":
    main()
