"""Field-level checks of a definition: mappings against message models, timeouts, retry, semver."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import semver
from pydantic import TypeAdapter, ValidationError
from sagaline.contracts.messages import Message
from sagaline.contracts.retry import RetryPolicy
from sagaline.saga.mapping import path_problem, paths

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PROVIDER = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def command_mapping_problems(where: str, model: type[Message], mapping: Any) -> list[str]:
    """Why ``mapping`` cannot build a valid ``model``: unknown or unmapped required fields, bad
    paths, and literals that do not fit their field."""
    if not isinstance(mapping, Mapping):
        return [f"{where}: command must be a mapping of field -> '$.path' or literal"]
    fields = model.model_fields
    problems = [
        f"{where}: {field!r} is not a field of {model.message_type} (fields: {', '.join(fields)})"
        for field in mapping
        if field not in fields
    ]
    problems += [
        f"{where}: required field {field!r} of {model.message_type} is not mapped"
        for field, info in fields.items()
        if info.is_required() and field not in mapping
    ]
    for field, spec in mapping.items():
        if field not in fields:
            continue
        read = list(paths(spec))
        problems += [f"{where}: field {field!r}: {p}" for p in map(path_problem, read) if p]
        if not read:
            problems += _literal_problems(where, model, field, spec)
    return problems


def reply_mapping_problems(where: str, model: type[Message], mapping: Any) -> list[str]:
    """Why ``mapping`` (saga-data key -> spec over the reply) cannot be applied to ``model``."""
    if not isinstance(mapping, Mapping):
        return [f"{where}: reply mapping must be a mapping of data key -> '$.reply_field'"]
    problems: list[str] = []
    for key, spec in mapping.items():
        if not isinstance(key, str) or not DATA_KEY.match(key):
            problems.append(f"{where}: {key!r} is not a valid saga data key")
        for path in paths(spec):
            bad = path_problem(path)
            if bad:
                problems.append(f"{where}: {key!r}: {bad}")
                continue
            segments = path.split(".")[1:]
            if segments and segments[0] not in model.model_fields:
                problems.append(
                    f"{where}: {key!r} reads {path!r}, but {segments[0]!r} is not a field of "
                    f"{model.message_type} (fields: {', '.join(model.model_fields)})"
                )
    return problems


def _literal_problems(where: str, model: type[Message], field: str, value: Any) -> list[str]:
    info = model.model_fields[field]
    try:
        # The field's own type plus its constraints (min_length, gt, pattern...), as pydantic
        # would check it inside the model.
        field_type: Any = Annotated[info.annotation, info]
        TypeAdapter(field_type).validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        return [f"{where}: literal {value!r} for {field!r} is invalid: {first['msg']}"]
    return []


def timeout_value(where: str, value: Any, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.append(f"{where}: timeout must be a positive number of seconds, got {value!r}")
        return 1.0
    return float(value)


def retry_policy(where: str, value: Any, default: RetryPolicy, problems: list[str]) -> RetryPolicy:
    if value is None:
        return default
    if isinstance(value, RetryPolicy):
        return value
    try:
        return RetryPolicy.model_validate(value)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'retry'}: {e['msg']}" for e in exc.errors())
        problems.append(f"{where}: invalid retry policy: {detail}")
        return default


def semver_problems(version: Any) -> list[str]:
    try:
        semver.Version.parse(str(version))
    except ValueError:
        return [f"workflow version {version!r} is not semver (e.g. 1.0.0)"]
    return [] if isinstance(version, str) else [f"workflow version {version!r} must be a string"]


def unknown_keys(where: str, raw: Mapping[str, Any], allowed: set[str]) -> list[str]:
    return [f"{where}: unknown key {key!r}" for key in raw if key not in allowed]
