"""Look templates and message classes up by their wire names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from sagaline.contracts.messages import Message
from sagaline.contracts.template import Template
from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping


def _by_name(templates: Iterable[Template]) -> Mapping[str, Template]:
    out: dict[str, Template] = {}
    for t in templates:
        if t.name in out:
            raise ValueError(f"template {t.name!r} is registered twice")
        out[t.name] = t
    return MappingProxyType(out)


def _message_classes(templates: Iterable[Template]) -> Mapping[str, type[Message]]:
    # A message_type is the only thing on the wire that says which class to parse with, so two
    # classes sharing one would make decoding ambiguous: refuse at import time.
    out: dict[str, type[Message]] = {}
    for t in templates:
        classes: list[type[Message]] = [*t.command_types().values(), *t.reply_types().values()]
        for cls in classes:
            seen = out.setdefault(cls.message_type, cls)
            if seen is not cls:
                raise ValueError(f"message_type {cls.message_type!r} is declared twice")
    return MappingProxyType(out)


TEMPLATES: Mapping[str, Template] = _by_name(
    m.TEMPLATE for m in (payment_gateway, inventory, shipping, notification)
)
_MESSAGES = _message_classes(TEMPLATES.values())


def template(name: str) -> Template:
    """The registered template called ``name``; ``KeyError`` listing the known names otherwise."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise KeyError(f"unknown template {name!r}; known: {', '.join(sorted(TEMPLATES))}") from None


def message_class(message_type: str) -> type[Message]:
    """The command or reply class whose wire name is ``message_type``; ``KeyError`` otherwise."""
    try:
        return _MESSAGES[message_type]
    except KeyError:
        raise KeyError(f"unknown message_type {message_type!r}") from None


def message_types() -> frozenset[str]:
    """Every registered command and reply wire name."""
    return frozenset(_MESSAGES)
