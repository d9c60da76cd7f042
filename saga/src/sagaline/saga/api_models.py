"""Request and response bodies of the coordinator's HTTP API.

These are the API's own models, not the stored ``SagaState``: the wire shape stays stable when the
storage shape changes, and nothing reaches a client that was not put here on purpose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sagaline.saga.state import Outcome, Phase, SagaStatus

_ORDER_EXAMPLE = {
    "order_id": "ord-1001",
    "customer_email": "ada@example.com",
    "items": [{"sku": "sku-mug", "quantity": 2}],
    "amount_cents": 2599,
    "currency": "EUR",
    "card_token": "tok_visa",
    "recipient_name": "Ada Lovelace",
    "address_line": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartSagaRequest(_Body):
    workflow: str = Field(min_length=1, examples=["order_processing_workflow"])
    version: str | None = Field(
        default=None,
        description="Workflow version; the latest registered one when omitted.",
        examples=["1.0.0"],
    )
    idempotency_key: str = Field(
        min_length=1,
        max_length=200,
        description="Chosen by the client. Starting again with the same key returns the same saga.",
        examples=["order-ord-1001"],
    )
    data: dict[str, Any] = Field(
        description="The saga's input, validated against the workflow's data model.",
        examples=[_ORDER_EXAMPLE],
    )


class OperatorRequest(_Body):
    reason: str = Field(default="", max_length=500, description="Recorded in the saga's history.")


class Problem(BaseModel):
    detail: str = Field(description="What went wrong, in words.")


class HistoryView(BaseModel):
    at: datetime
    event: str
    step: str = ""
    attempt: int | None = None
    detail: str = ""


class OutcomeView(BaseModel):
    provider: str
    outcome: Outcome
    detail: str = ""


StepState = Literal["succeeded", "in_progress", "pending", "declined", "uncertain", "not_run"]


class StepView(BaseModel):
    name: str
    contract: str = Field(
        description="template@version the step invokes.", examples=["payment_gateway@1.0.0"]
    )
    operation: str
    providers: list[str] = Field(description="Derived jobs in failover order.")
    state: StepState = Field(
        description="succeeded; in_progress (the saga waits on it); pending (not reached yet); "
        "declined or uncertain (the last provider's outcome); not_run (the saga will not reach it)."
    )
    outcomes: list[OutcomeView] = Field(description="What each provider tried did.")


class CompensationTaskView(BaseModel):
    step: str
    compensation: str
    provider: str
    done: bool


class CompensationView(BaseModel):
    reason: str | None = Field(description="Why the saga started compensating.")
    current: str | None = Field(description="Compensation the saga waits on, if any.")
    done: list[CompensationTaskView]
    remaining: list[CompensationTaskView]


class SagaSummary(BaseModel):
    saga_id: str
    workflow: str
    workflow_version: str
    status: SagaStatus
    current_step: str | None = Field(description="Step or compensation the saga waits on.")
    phase: Phase | None
    attempt: int | None = Field(description="Attempt of the command the saga waits on.")
    provider: str | None = Field(description="Derived job the saga waits on.")
    created_at: datetime
    updated_at: datetime


class SagaView(SagaSummary):
    waiting_until: datetime | None = Field(
        description="Reply deadline of the pending command, or when a retry will be sent."
    )
    steps: list[StepView]
    remaining_steps: list[str] = Field(description="Forward steps still to run after the current one.")
    compensation: CompensationView | None = Field(description="Set once the saga started compensating.")
    rollback_reason: str | None
    failure_reason: str | None = Field(description="Why a compensation gave up (status failed).")
    resumes: int = Field(description="Times an operator resumed the saga.")
    version: int = Field(description="Grows by one with every transition.")
    data: dict[str, Any] = Field(description="Saga data; sensitive fields are masked.")
    history: list[HistoryView] = Field(description="Latest events, oldest first.")


class SagaPageView(BaseModel):
    items: list[SagaSummary] = Field(description="Newest first.")
    total: int = Field(description="Sagas matching the filters.")
    offset: int
    limit: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class HealthView(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessView(BaseModel):
    ready: bool
    checks: dict[str, bool] = Field(description="Each dependency and whether it answered.")
