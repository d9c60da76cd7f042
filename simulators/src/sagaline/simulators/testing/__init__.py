"""Test machinery for simulated derived jobs, used by the services' tests (needs pytest).

``JobProcess``/``restart_mid_stream`` run a job as its own process; ``PaymentJobSuite`` is the
behaviour every simulated payment job shares, run by subclassing it (like the conformance kit);
``MaildirReader`` finds what the email job delivered to the SMTP sink.
"""

from sagaline.simulators.testing.mail import MaildirReader
from sagaline.simulators.testing.payments import PaymentJobSuite
from sagaline.simulators.testing.processes import (
    JobProcess,
    RestartOutcome,
    TopicReader,
    free_port,
    restart_mid_stream,
    settings_env,
)

__all__ = [
    "JobProcess",
    "MaildirReader",
    "PaymentJobSuite",
    "RestartOutcome",
    "TopicReader",
    "free_port",
    "restart_mid_stream",
    "settings_env",
]
