"""``python -m notification_email_job``: serve the job until SIGTERM (settings from ``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.contracts.job import run_job

from notification_email_job.job import EmailJob
from notification_email_job.settings import EmailSettings


def main() -> None:
    run_job(EmailJob, EmailSettings)


if __name__ == "__main__":
    main()
