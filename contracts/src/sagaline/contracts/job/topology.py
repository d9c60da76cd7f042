"""The three topics one derived job touches, named by ``sagaline.contracts.topics``."""

from __future__ import annotations

from dataclasses import dataclass

from sagaline.contracts.template import Template
from sagaline.contracts.topics import DLQ, commands_topic, events_topic


@dataclass(frozen=True)
class JobTopics:
    """``prefix`` lets environments (or tests) share one cluster without sharing topics."""

    commands: str
    events: str
    dlq: str

    @classmethod
    def for_job(cls, template: Template, provider: str, prefix: str = "") -> JobTopics:
        return cls(
            commands=f"{prefix}{commands_topic(template, provider)}",
            events=f"{prefix}{events_topic(template)}",
            dlq=f"{prefix}{DLQ}",
        )
