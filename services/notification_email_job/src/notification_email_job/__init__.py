"""notification_email_job: the notification template as email over SMTP."""

from notification_email_job.app import create_job_app
from notification_email_job.job import EmailJob
from notification_email_job.settings import EmailSettings

__all__ = ["EmailJob", "EmailSettings", "create_job_app"]
