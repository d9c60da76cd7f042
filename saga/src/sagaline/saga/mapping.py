"""The small data language of saga definitions: how commands are built and replies read.

A mapping is a dict from a target field to a *spec*:

- ``"$.order_id"`` / ``"$.address.city"`` / ``"$.items.0.sku"``: the value at that path of the
  source (saga data when building a command, the reply when updating data); ``"$"`` is the whole
  source.
- a string with ``{$.path}`` placeholders, e.g. ``"Order {$.order_id} is confirmed"``: the text with
  each placeholder replaced by the value at its path.
- dicts and lists: resolved element by element, so nested structures can mix paths and literals.
- anything else: a literal, used as is.

Specs are plain JSON values, which is what lets a definition round-trip through a dict or YAML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*|\d+"
_PATH = re.compile(rf"^\$(?:\.(?:{_SEGMENT}))*$")
_PLACEHOLDER = re.compile(r"\{(\$(?:\.[A-Za-z0-9_]+)*)\}")


class MissingPath(LookupError):
    """The source has no value at a path the mapping reads."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no value at {path}")
        self.path = path


def is_path(spec: Any) -> bool:
    """Whether ``spec`` is a whole-value path (``"$"`` or ``"$.a.b"``)."""
    return isinstance(spec, str) and (spec == "$" or spec.startswith("$."))


def path_problem(path: str) -> str | None:
    """Why ``path`` is not a valid path, or None when it is."""
    return None if _PATH.match(path) else f"{path!r} is not a path like '$.field' or '$.a.b.0'"


def lookup(path: str, source: Any) -> Any:
    """The value at ``path`` in ``source``; ``MissingPath`` if any segment is absent."""
    value = source
    for segment in path.split(".")[1:]:
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            raise MissingPath(path)
    return value


def resolve(spec: Any, source: Any) -> Any:
    """Evaluate one spec against ``source``; ``MissingPath`` when a path it reads is absent."""
    if is_path(spec):
        return lookup(spec, source)
    if isinstance(spec, str):
        return _PLACEHOLDER.sub(lambda m: _text(lookup(m.group(1), source)), spec)
    if isinstance(spec, Mapping):
        return {key: resolve(value, source) for key, value in spec.items()}
    if isinstance(spec, list):
        return [resolve(item, source) for item in spec]
    return spec


def build(mapping: Mapping[str, Any], source: Any) -> dict[str, Any]:
    """Evaluate every field of ``mapping``.

    A field whose path is missing is left out rather than set to None, so the target model's
    default applies (``RefundPayment.charge_id`` is None when the charge reply was never seen) and
    a required field surfaces as a validation error naming it.
    """
    out: dict[str, Any] = {}
    for field, spec in mapping.items():
        try:
            out[field] = resolve(spec, source)
        except MissingPath:
            continue
    return out


def paths(spec: Any) -> Iterator[str]:
    """Every path ``spec`` reads, including placeholders inside text."""
    if is_path(spec):
        yield spec
    elif isinstance(spec, str):
        yield from (m.group(1) for m in _PLACEHOLDER.finditer(spec))
    elif isinstance(spec, Mapping):
        for value in spec.values():
            yield from paths(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from paths(item)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
