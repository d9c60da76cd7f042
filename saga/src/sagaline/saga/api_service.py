"""What the HTTP API does, without HTTP: start, read, list, resume and cancel sagas.

Starts are idempotent by construction: the saga id is derived from the workflow name and the
client's idempotency key, and the engine refuses to create a saga id twice, so a repeated start
(a client retry, two replicas racing) returns the saga the first start created.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel, ValidationError
from sagaline.saga.engine import Engine
from sagaline.saga.incoming import CancelSaga, ResumeSaga
from sagaline.saga.state import SagaState, SagaStatus
from sagaline.saga.store import SagaPage

# Fixed forever: changing it would give every idempotency key a new saga id.
SAGA_ID_NAMESPACE = uuid.UUID("5b0f3c8e-2d4a-5e61-9c3b-7a1d2e4f6a80")


class SagaNotFound(LookupError):
    """No saga has that id."""


class SagaRefused(RuntimeError):
    """The saga's state does not allow the operator action; the message says why."""


class InvalidSagaData(ValueError):
    """Saga data does not fit the workflow's data model; ``errors`` are pydantic's, input removed."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("saga data does not match the workflow's data model")
        self.errors = errors


def saga_id_for(workflow: str, idempotency_key: str) -> str:
    """The saga id a start of ``workflow`` with ``idempotency_key`` creates (uuid5)."""
    # JSON keeps the two parts apart whatever characters they contain.
    return str(uuid.uuid5(SAGA_ID_NAMESPACE, json.dumps([workflow, idempotency_key])))


class SagaService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.registry = engine.registry
        self.store = engine.store

    async def start(
        self, workflow: str, version: str | None, idempotency_key: str, data: dict[str, Any]
    ) -> tuple[SagaState, bool]:
        """Start a saga, or return the one this key already started. Returns (saga, created).

        Raises ``UnknownWorkflow`` and ``InvalidSagaData``.
        """
        definition = self.registry.get(workflow, version) if version else self.registry.latest(workflow)
        model = self.registry.data_model(definition.name, definition.version)
        checked: dict[str, Any] | BaseModel = data
        if model is not None:
            try:
                checked = model.model_validate(data)
            except ValidationError as exc:
                raise InvalidSagaData(
                    [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
                ) from None
        saga_id = saga_id_for(definition.name, idempotency_key)
        return await self.engine.start(definition.name, checked, saga_id, definition.version)

    async def get(self, saga_id: str) -> SagaState:
        state = await self.store.load(saga_id)
        if state is None:
            raise SagaNotFound(f"no saga {saga_id}")
        return state

    async def list_sagas(
        self, status: SagaStatus | None, workflow: str | None, offset: int, limit: int
    ) -> SagaPage:
        return await self.store.list_sagas(status.value if status else None, workflow, offset, limit)

    async def resume(self, saga_id: str, reason: str) -> SagaState:
        return await self._operate(saga_id, ResumeSaga(saga_id, reason))

    async def cancel(self, saga_id: str, reason: str) -> SagaState:
        return await self._operate(saga_id, CancelSaga(saga_id, reason))

    async def _operate(self, saga_id: str, action: ResumeSaga | CancelSaga) -> SagaState:
        # The engine's cached copy may be older than what another coordinator stored; deciding on
        # it could refuse an action the saga now allows, so read the stored saga.
        self.engine.forget(saga_id)
        await self.get(saga_id)
        result = await self.engine.apply(action)
        if result.ignored is not None:
            raise SagaRefused(result.ignored)
        assert result.state is not None
        return result.state
