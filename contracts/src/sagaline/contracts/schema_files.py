"""The checked-in JSON Schema files: one ``<template>.json`` per template.

A file holds ``{"template", "version", "messages": {message_type: json_schema}}`` and is written
with sorted keys, 2-space indent and a trailing newline, so a model change shows up as a small,
reviewable git diff and an unchanged model rewrites the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sagaline.contracts.template import Template

SchemaDoc = Mapping[str, Any]


class SchemaFileError(Exception):
    """A checked-in schema file is unreadable or not in the expected shape."""


def template_schemas(template: Template) -> dict[str, Any]:
    """The schema document of ``template``: every command and reply it declares."""
    classes = {**template.command_types(), **template.reply_types()}
    return {
        "template": template.name,
        "version": template.version,
        "messages": {name: cls.model_json_schema() for name, cls in sorted(classes.items())},
    }


def render(doc: SchemaDoc) -> str:
    """Stable text of a schema document (the exact bytes written to disk)."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_path(directory: Path, template_name: str) -> Path:
    return directory / f"{template_name}.json"


def default_schema_dir() -> Path:
    """``contracts/schemas`` of the source checkout this package runs from.

    Falls back to ``./contracts/schemas`` when the package is installed from a wheel, where there
    is no checkout next to it.
    """
    package_root = Path(__file__).resolve().parents[3]
    if (package_root / "pyproject.toml").is_file() and (package_root / "src" / "sagaline").is_dir():
        return package_root / "schemas"
    return Path("contracts") / "schemas"


def write_schemas(templates: Iterable[Template], directory: Path) -> dict[str, bool]:
    """Write one file per template; returns ``{template: True if the file changed}``."""
    directory.mkdir(parents=True, exist_ok=True)
    changed: dict[str, bool] = {}
    for template in templates:
        path = schema_path(directory, template.name)
        text = render(template_schemas(template))
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
        changed[template.name] = old != text
    return changed


def load_schemas(directory: Path) -> dict[str, tuple[SchemaDoc, str]]:
    """Every ``*.json`` in ``directory`` as ``{template: (document, raw text)}``."""
    if not directory.is_dir():
        raise SchemaFileError(f"schema directory {directory} does not exist")
    loaded: dict[str, tuple[SchemaDoc, str]] = {}
    for path in sorted(directory.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaFileError(f"{path}: not valid JSON ({exc})") from None
        _check_shape(path, doc)
        loaded[doc["template"]] = (doc, text)
    return loaded


def _check_shape(path: Path, doc: Any) -> None:
    if not isinstance(doc, Mapping):
        raise SchemaFileError(f"{path}: expected a JSON object")
    missing = {"template", "version", "messages"} - doc.keys()
    if missing:
        raise SchemaFileError(f"{path}: missing keys {', '.join(sorted(missing))}")
    if doc["template"] != path.stem:
        raise SchemaFileError(f"{path}: holds template {doc['template']!r}, expected {path.stem!r}")
    messages = doc["messages"]
    if not isinstance(messages, Mapping) or not all(isinstance(s, Mapping) for s in messages.values()):
        raise SchemaFileError(f"{path}: 'messages' must map message types to schema objects")
