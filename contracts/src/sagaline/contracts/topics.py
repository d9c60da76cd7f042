"""Every topic name in one place. Topics carry the contract major, never the minor."""

from __future__ import annotations

from sagaline.contracts.template import Template

DLQ = "sagaline.dlq"


def commands_topic(template: Template, provider: str) -> str:
    """Commands for one derived job, e.g. ``payment_gateway.v1.stripe.commands``."""
    return f"{template.name}.v{template.major}.{provider}.commands"


def events_topic(template: Template) -> str:
    """Replies of every derived job of a template, e.g. ``payment_gateway.v1.events``."""
    return f"{template.name}.v{template.major}.events"
