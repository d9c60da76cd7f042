"""Conformance kit: prove a derived job honours its template against the real Kafka and Redis.

Subclass ``JobConformance`` in the job's tests (see its module docstring). ``JobHarness`` and the
functions in ``checks`` are the same machinery for tests of a job's own behaviour.
"""

from sagaline.contracts.testing import checks
from sagaline.contracts.testing.conformance import JobConformance, delete_keys, kit_settings
from sagaline.contracts.testing.envelopes import BAD_INPUTS, BadInput, command_envelope
from sagaline.contracts.testing.harness import JobHarness, Sent, delete_topics, ensure_topics, wait_until
from sagaline.contracts.testing.spy import HookSpy

__all__ = [
    "BAD_INPUTS",
    "BadInput",
    "HookSpy",
    "JobConformance",
    "JobHarness",
    "Sent",
    "checks",
    "command_envelope",
    "delete_keys",
    "delete_topics",
    "ensure_topics",
    "kit_settings",
    "wait_until",
]
