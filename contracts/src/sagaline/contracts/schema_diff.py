"""Compare two JSON Schemas of the same message and classify every difference.

Pure functions over plain dicts (as pydantic's ``model_json_schema`` writes them), so the rules can
be tested on crafted schemas. ``$ref``s into ``$defs`` are resolved on both sides before comparing,
so a change inside a nested model is reported at the field that uses it (``items[].quantity``).

A consumer of major N accepts every minor/patch of N, in both directions of a rolling deploy: an
old consumer reads messages of a newer minor, and a new consumer reads messages of an older one.
So the only compatible changes are ones both sides tolerate:

- ``MAJOR`` (breaking): a field or message removed (a rename is a removal plus an addition), a
  field retyped, a new required field, a field that became required or optional, an enum or
  Literal that lost *or gained* values (an old consumer rejects the new value), a changed
  validation constraint (``minLength``, ``pattern``, ...), any keyword this module does not know.
- ``MINOR`` (compatible): an optional field added (old consumers ignore it), a message added, a
  changed default.
- ``PATCH`` (documentation): title, description, examples, ``x-sensitive`` and other annotations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

Schema = Mapping[str, Any]


class Level(IntEnum):
    """How big a version bump a change needs (also used for the size of a bump itself)."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new schema of ``message``.

    ``field`` is a path inside the message (``items[].quantity``), or None for the message itself.
    """

    level: Level
    message: str
    field: str | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.message} field {self.field}" if self.field else self.message
        return f"{where}: {self.detail}"


# Keywords that document a schema without changing what it accepts.
_ANNOTATIONS = frozenset(
    {"title", "description", "examples", "x-sensitive", "$comment", "deprecated", "readOnly", "writeOnly"}
)
# Keywords this module compares structurally; every other keyword is treated as a constraint.
_STRUCTURAL = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "anyOf",
        "oneOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "default",
    }
)
_MISSING = object()


def diff_messages(old: Mapping[str, Schema], new: Mapping[str, Schema]) -> list[Change]:
    """Every change between two ``{message_type: schema}`` maps, sorted by message."""
    changes: list[Change] = []
    for message in sorted(old.keys() | new.keys()):
        if message not in new:
            changes.append(Change(Level.MAJOR, message, None, "message removed"))
        elif message not in old:
            changes.append(Change(Level.MINOR, message, None, "message added"))
        else:
            changes.extend(diff_message(message, old[message], new[message]))
    return changes


def diff_message(message: str, old: Schema, new: Schema) -> list[Change]:
    """Every change between two schemas of one message, named by field path."""
    walker = _Walker(message, old.get("$defs", {}), new.get("$defs", {}))
    return list(walker.diff(old, new, None))


@dataclass
class _Walker:
    message: str
    old_defs: Mapping[str, Schema]
    new_defs: Mapping[str, Schema]
    # Pairs of $ref names being compared right now: a recursive model must not recurse forever.
    _active: set[tuple[str | None, str | None]] = field(default_factory=set)

    def change(self, level: Level, path: str | None, detail: str) -> Change:
        return Change(level, self.message, path, detail)

    def diff(self, old: Schema, new: Schema, path: str | None) -> Iterator[Change]:
        refs = (_ref_name(old), _ref_name(new))
        resolved = (_resolve(old, self.old_defs), _resolve(new, self.new_defs))
        if refs == (None, None):
            yield from self._diff_resolved(*resolved, path)
            return
        if refs in self._active:
            return
        self._active.add(refs)
        try:
            yield from self._diff_resolved(*resolved, path)
        finally:
            self._active.discard(refs)

    def _diff_resolved(self, old: Schema, new: Schema, path: str | None) -> Iterator[Change]:
        for key in sorted(_ANNOTATIONS):
            if old.get(key) != new.get(key):
                yield self.change(Level.PATCH, path, f"{key} changed")
        old_default, new_default = old.get("default", _MISSING), new.get("default", _MISSING)
        if old_default != new_default:
            yield self.change(
                Level.MINOR, path, f"default changed from {_show(old_default)} to {_show(new_default)}"
            )

        # A retyped field is reported once as such, not also as every constraint that differs.
        old_alts, new_alts = _alternatives(old), _alternatives(new)
        if old_alts is None and new_alts is None:
            yield from self._diff_single(old, new, path)
            return
        pairs = self._pair(old_alts or [old], new_alts or [new])
        if pairs is None:
            yield self._retyped(old, new, path)
            return
        yield from self._constraints(old, new, path)
        for old_alt, new_alt in pairs:
            yield from self.diff(old_alt, new_alt, path)

    def _diff_single(self, old: Schema, new: Schema, path: str | None) -> Iterator[Change]:
        if old.get("type") != new.get("type") or (_values(old) is None) != (_values(new) is None):
            yield self._retyped(old, new, path)
            return
        yield from self._constraints(old, new, path)
        yield from self._enum(old, new, path)
        yield from self._properties(old, new, path)
        for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
            old_sub, new_sub = old.get(key, _MISSING), new.get(key, _MISSING)
            if isinstance(old_sub, Mapping) and isinstance(new_sub, Mapping):
                yield from self.diff(old_sub, new_sub, _join(path, suffix))
            elif old_sub != new_sub:
                yield self.change(
                    Level.MAJOR, path, f"{key} changed from {_show(old_sub)} to {_show(new_sub)}"
                )

    def _enum(self, old: Schema, new: Schema, path: str | None) -> Iterator[Change]:
        old_values, new_values = _values(old), _values(new)
        if old_values is None or new_values is None:
            return
        if lost := old_values - new_values:
            yield self.change(Level.MAJOR, path, f"narrowed: no longer accepts {_show_set(lost)}")
        if gained := new_values - old_values:
            yield self.change(
                Level.MAJOR,
                path,
                f"widened: now also accepts {_show_set(gained)}, which consumers of the old version reject",
            )

    def _properties(self, old: Schema, new: Schema, path: str | None) -> Iterator[Change]:
        old_props: Mapping[str, Schema] = old.get("properties", {})
        new_props: Mapping[str, Schema] = new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name in sorted(old_props.keys() | new_props.keys()):
            where = _join(path, name)
            if name not in new_props:
                yield self.change(Level.MAJOR, where, "field removed")
            elif name not in old_props:
                if name in new_required:
                    yield self.change(Level.MAJOR, where, "new required field")
                else:
                    yield self.change(Level.MINOR, where, "optional field added")
            else:
                if name in old_required and name not in new_required:
                    yield self.change(
                        Level.MAJOR, where, "no longer required: consumers of the old version need it"
                    )
                elif name in new_required and name not in old_required:
                    yield self.change(Level.MAJOR, where, "became required")
                yield from self.diff(old_props[name], new_props[name], where)

    def _constraints(self, old: Schema, new: Schema, path: str | None) -> Iterator[Change]:
        for key in sorted((old.keys() | new.keys()) - _ANNOTATIONS - _STRUCTURAL):
            old_value, new_value = old.get(key, _MISSING), new.get(key, _MISSING)
            if old_value != new_value:
                yield self.change(
                    Level.MAJOR,
                    path,
                    f"constraint {key} changed from {_show(old_value)} to {_show(new_value)}",
                )

    def _pair(self, old_alts: list[Schema], new_alts: list[Schema]) -> list[tuple[Schema, Schema]] | None:
        """Match union members by kind (string, object, null, ...); None when the kinds differ."""
        old_kinds = [self._kind(alt, self.old_defs) for alt in old_alts]
        new_kinds = [self._kind(alt, self.new_defs) for alt in new_alts]
        if sorted(old_kinds) != sorted(new_kinds):
            return None
        remaining = list(zip(new_kinds, new_alts, strict=True))
        pairs = []
        for kind, old_alt in zip(old_kinds, old_alts, strict=True):
            index = next(i for i, (k, _) in enumerate(remaining) if k == kind)
            pairs.append((old_alt, remaining.pop(index)[1]))
        return pairs

    @staticmethod
    def _kind(schema: Schema, defs: Mapping[str, Schema]) -> str:
        resolved = _resolve(schema, defs)
        kind = resolved.get("type", "any")
        suffix = ":enum" if _values(resolved) is not None else ""
        return json.dumps(kind) + suffix

    def _retyped(self, old: Schema, new: Schema, path: str | None) -> Change:
        old_desc, new_desc = _describe(old, self.old_defs), _describe(new, self.new_defs)
        return self.change(Level.MAJOR, path, f"type changed from {old_desc} to {new_desc}")


def _ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _resolve(schema: Schema, defs: Mapping[str, Schema]) -> Schema:
    """Inline a local ``$ref``; keywords next to the ``$ref`` (a description) win over the target's."""
    seen: set[str] = set()
    while (name := _ref_name(schema)) is not None:
        if name in seen or name not in defs:
            raise ValueError(f"unresolvable $ref {schema['$ref']!r}")
        seen.add(name)
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**defs[name], **siblings}
    return schema


def _alternatives(schema: Schema) -> list[Schema] | None:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return list(schema[key])
    return None


def _values(schema: Schema) -> frozenset[str] | None:
    """Allowed values of an enum/const schema as JSON strings (hashable); None if unrestricted."""
    if "enum" in schema:
        return frozenset(json.dumps(v, sort_keys=True) for v in schema["enum"])
    if "const" in schema:
        return frozenset({json.dumps(schema["const"], sort_keys=True)})
    return None


def _describe(schema: Schema, defs: Mapping[str, Schema]) -> str:
    ref = _ref_name(schema)
    resolved = _resolve(schema, defs)
    alts = _alternatives(resolved)
    if alts is not None:
        return "|".join(_describe(alt, defs) for alt in alts)
    values = _values(resolved)
    if values is not None:
        return "|".join(sorted(values))
    kind = resolved.get("type", "any")
    if kind == "array" and isinstance(resolved.get("items"), Mapping):
        return f"array of {_describe(resolved['items'], defs)}"
    if ref is not None:
        return f"{kind} {ref}"
    return kind if isinstance(kind, str) else "|".join(kind)


def _join(path: str | None, name: str) -> str:
    if path is None:
        return name
    return f"{path}{name}" if name.startswith("[") or name.startswith("{") else f"{path}.{name}"


def _show(value: Any) -> str:
    return "(none)" if value is _MISSING else json.dumps(value, sort_keys=True)


def _show_set(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))
