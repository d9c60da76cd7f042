"""inventory_reservation_job: the inventory template on stock levels kept in Redis."""

from inventory_reservation_job.app import create_job_app
from inventory_reservation_job.job import ReservationJob
from inventory_reservation_job.settings import ReservationSettings

__all__ = ["ReservationJob", "ReservationSettings", "create_job_app"]
