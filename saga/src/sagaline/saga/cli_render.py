"""Readable terminal output of the API's saga views, with rich tables."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

STATUS_STYLES = {
    "running": "cyan",
    "completed": "green",
    "compensating": "yellow",
    "compensated": "magenta",
    "failed": "bold red",
    "cancelled": "dim",
}
STEP_STYLES = {
    "succeeded": "green",
    "in_progress": "cyan",
    "declined": "red",
    "uncertain": "yellow",
    "pending": "",
    "not_run": "dim",
}


def saga_tables(saga: dict[str, Any]) -> Group:
    """Summary, steps, compensation, data and history of one saga view."""
    parts: list[Table] = [_summary(saga), _steps(saga)]
    compensation = saga.get("compensation")
    if compensation:
        parts.append(_compensation(compensation))
    if saga.get("data"):
        parts.append(_data(saga["data"]))
    parts.append(_history(saga.get("history", [])))
    return Group(*parts)


def page_table(page: dict[str, Any]) -> Table:
    """One page of the saga list, with where the next page starts."""
    items = page.get("items", [])
    first = page.get("offset", 0) + 1
    caption = f"{first}-{first + len(items) - 1} of {page.get('total', 0)}" if items else "no sagas"
    if page.get("next_offset") is not None:
        caption += f"; next page: --offset {page['next_offset']}"
    table = Table(title="Sagas", caption=caption, title_justify="left")
    # An id cut in two cannot be copied back into a command.
    table.add_column("saga id", no_wrap=True)
    for column in ("workflow", "status", "current step", "attempt", "provider", "updated"):
        table.add_column(column, overflow="fold")
    for saga in items:
        table.add_row(
            saga["saga_id"],
            f"{saga['workflow']}@{saga['workflow_version']}",
            status_text(saga["status"]),
            saga.get("current_step") or "-",
            _text(saga.get("attempt")),
            saga.get("provider") or "-",
            _when(saga.get("updated_at")),
        )
    return table


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def json_text(body: Any) -> str:
    """Machine output: the API's JSON, indented; no colour, no wrapping."""
    return json.dumps(body, indent=2, ensure_ascii=False)


def _summary(saga: dict[str, Any]) -> Table:
    table = Table(show_header=False, title=f"Saga {saga['saga_id']}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("workflow", f"{saga['workflow']}@{saga['workflow_version']}")
    table.add_row("status", status_text(saga["status"]))
    if saga.get("current_step"):
        where = f"{saga['current_step']} ({saga.get('phase')}), attempt {saga.get('attempt')}"
        table.add_row("current step", f"{where} on {saga.get('provider')}")
        table.add_row("waiting until", _when(saga.get("waiting_until")))
    table.add_row("remaining steps", ", ".join(saga.get("remaining_steps", [])) or "-")
    for field in ("rollback_reason", "failure_reason"):
        if saga.get(field):
            table.add_row(field.replace("_", " "), saga[field])
    if saga.get("resumes"):
        table.add_row("resumes", str(saga["resumes"]))
    table.add_row("created", _when(saga.get("created_at")))
    table.add_row("updated", _when(saga.get("updated_at")))
    return table


def _steps(saga: dict[str, Any]) -> Table:
    table = Table(title="Steps", title_justify="left")
    for column in ("#", "step", "contract", "providers", "state", "outcomes"):
        table.add_column(column, overflow="fold")
    for number, step in enumerate(saga.get("steps", []), start=1):
        outcomes = "; ".join(
            f"{o['provider']}: {o['outcome']}" + (f" ({o['detail']})" if o.get("detail") else "")
            for o in step.get("outcomes", [])
        )
        table.add_row(
            str(number),
            step["name"],
            step["contract"],
            ", ".join(step["providers"]),
            Text(step["state"], style=STEP_STYLES.get(step["state"], "")),
            outcomes or "-",
        )
    return table


def _compensation(compensation: dict[str, Any]) -> Table:
    table = Table(title=f"Compensation: {compensation.get('reason') or '-'}", title_justify="left")
    for column in ("compensation", "undoes", "provider", "progress"):
        table.add_column(column, overflow="fold")
    current = compensation.get("current")
    for task in [*compensation.get("done", []), *compensation.get("remaining", [])]:
        if task["done"]:
            progress = Text("done", style="green")
        elif task["compensation"] == current:
            progress = Text("in progress", style="cyan")
        else:
            progress = Text("to do")
        table.add_row(task["compensation"], task["step"], task["provider"], progress)
    return table


def _data(data: dict[str, Any]) -> Table:
    table = Table(title="Data (sensitive fields masked)", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return table


def _history(history: list[dict[str, Any]]) -> Table:
    table = Table(title="History", title_justify="left")
    for column in ("at", "event", "step", "attempt", "detail"):
        table.add_column(column, overflow="fold")
    for entry in history:
        table.add_row(
            _when(entry.get("at")),
            entry["event"],
            entry.get("step") or "-",
            _text(entry.get("attempt")),
            entry.get("detail") or "",
        )
    return table


def _when(value: str | None) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).isoformat(sep=" ", timespec="milliseconds")


def _text(value: Any) -> str:
    return "-" if value is None else str(value)
