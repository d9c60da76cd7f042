"""The notification conformance kit, run against the email job (real SMTP to the local sink)."""

from __future__ import annotations

from notification_email_job import EmailJob, EmailSettings
from sagaline.contracts.messages import Command
from sagaline.contracts.templates.notification import SendNotification
from sagaline.contracts.testing import JobConformance


def notification(order_id: str, recipient: str = "ada@example.com") -> SendNotification:
    return SendNotification(
        order_id=order_id,
        recipient=recipient,
        subject=f"Your order {order_id} is confirmed",
        body=f"Thank you. Order {order_id} is on its way.",
    )


class TestEmailJobConformance(JobConformance):
    job_class = EmailJob
    settings_class = EmailSettings

    async def make_command(self, operation: str, unique: str) -> Command:
        return notification(unique)

    async def declining_command(self, operation: str, unique: str) -> Command | None:
        return notification(unique, recipient="nobody@mailbox.invalid")
