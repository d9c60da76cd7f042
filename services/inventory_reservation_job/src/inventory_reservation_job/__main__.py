"""``python -m inventory_reservation_job``: serve the job until SIGTERM (settings from ``SAGALINE_*``)."""

from __future__ import annotations

from sagaline.contracts.job import run_job

from inventory_reservation_job.job import ReservationJob
from inventory_reservation_job.settings import ReservationSettings


def main() -> None:
    run_job(ReservationJob, ReservationSettings)


if __name__ == "__main__":
    main()
