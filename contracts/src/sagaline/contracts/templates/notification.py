"""notification: tell the customer about their order. Nothing to compensate."""

from __future__ import annotations

from pydantic import Field
from sagaline.contracts.messages import Command, FailureReply, SuccessReply, sensitive
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.template import Operation, Template

NAME = "notification"
VERSION = "1.0.0"

# Deliberately loose: one "@", a dot in the domain, no whitespace. Full RFC 5322 validation is
# the mail server's job; this only rejects obvious garbage before a job tries to send it.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class SendNotification(Command):
    message_type = "notification.SendNotification"

    order_id: str = Field(min_length=1, examples=["ord-1001"])
    recipient: str = sensitive(
        pattern=EMAIL_PATTERN,
        description="Recipient email address; personal data, never logged.",
        examples=["ada@example.com"],
    )
    subject: str = Field(min_length=1, max_length=200, examples=["Your order ord-1001 is confirmed"])
    body: str = Field(min_length=1, description="Plain-text message body.")


class NotificationSent(SuccessReply):
    message_type = "notification.NotificationSent"

    order_id: str
    delivery_id: str = Field(description="Sender's reference for the delivery (e.g. Message-ID).")


class NotificationFailed(FailureReply):
    """Generic failure: transient errors outlasted the retry policy (retryable=True)."""

    message_type = "notification.NotificationFailed"


class NotificationRejected(FailureReply):
    """Business outcome: the recipient was refused (e.g. unknown mailbox). Not retryable."""

    message_type = "notification.NotificationRejected"


TEMPLATE = Template(
    name=NAME,
    version=VERSION,
    description="Send a notification about an order to its customer.",
    operations={
        "send": Operation(
            name="send",
            command=SendNotification,
            success=NotificationSent,
            failure=(NotificationFailed, NotificationRejected),
            retry=RetryPolicy(max_attempts=4, initial_interval=0.2, max_interval=3.0),
            timeout=10.0,
        ),
    },
)
