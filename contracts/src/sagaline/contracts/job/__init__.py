"""The TemplateJob runtime: a derived job implements its template's hooks, the runtime does the rest.

```python
class StripeJob(PaymentGatewayJob):
    async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged: ...
    async def refund(self, command: RefundPayment, ctx: JobContext) -> PaymentRefunded: ...

def main() -> None:
    run_job(StripeJob, StripeSettings)
```
"""

from sagaline.contracts.job.app import JobApp, create_app
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.context import JobContext
from sagaline.contracts.job.dedupe import IdempotencyStore, MemoryIdempotencyStore, RedisIdempotencyStore
from sagaline.contracts.job.dlq import DlqReason
from sagaline.contracts.job.errors import Declined, TransientError
from sagaline.contracts.job.kafka import make_broker
from sagaline.contracts.job.metrics import JobMetrics
from sagaline.contracts.job.serve import run_job
from sagaline.contracts.job.settings import JobSettings, RetryOverride
from sagaline.contracts.job.telemetry import configure_logging, log_context, make_tracer_provider
from sagaline.contracts.job.template_jobs import InventoryJob, NotificationJob, PaymentGatewayJob, ShippingJob
from sagaline.contracts.job.topology import JobTopics

__all__ = [
    "Declined",
    "DlqReason",
    "IdempotencyStore",
    "InventoryJob",
    "JobApp",
    "JobContext",
    "JobMetrics",
    "JobSettings",
    "JobTopics",
    "MemoryIdempotencyStore",
    "NotificationJob",
    "PaymentGatewayJob",
    "RedisIdempotencyStore",
    "RetryOverride",
    "ShippingJob",
    "TemplateJob",
    "TransientError",
    "configure_logging",
    "create_app",
    "log_context",
    "make_broker",
    "make_tracer_provider",
    "run_job",
]
