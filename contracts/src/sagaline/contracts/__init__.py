"""Sagaline template contracts: the wire envelope, templates, versioning and the job runtime."""

from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.messages import Command, FailureReply, Message, Reply, SuccessReply, sensitive
from sagaline.contracts.registry import TEMPLATES, message_class, message_types, template
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.signing import KeyRing, SignatureError
from sagaline.contracts.template import Operation, Template
from sagaline.contracts.topics import DLQ, commands_topic, events_topic
from sagaline.contracts.versioning import accepts

__all__ = [
    "DLQ",
    "TEMPLATES",
    "Command",
    "Envelope",
    "FailureReply",
    "KeyRing",
    "Kind",
    "Message",
    "Operation",
    "Reply",
    "RetryPolicy",
    "SignatureError",
    "SuccessReply",
    "Template",
    "accepts",
    "commands_topic",
    "events_topic",
    "message_class",
    "message_types",
    "sensitive",
    "template",
]
