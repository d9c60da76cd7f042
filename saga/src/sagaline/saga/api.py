"""The coordinator's HTTP API: start, read, list, resume and cancel sagas, plus probes and metrics.

Build it with ``create_api(coordinator_or_engine, settings)``; there is no module-level app. The
checked-in OpenAPI document (``saga/openapi.json``) is regenerated with
``uv run python -m sagaline.saga.api --export-openapi saga/openapi.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any, cast

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response
from fastapi import status as http_status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sagaline.saga.api_auth import bearer_guard
from sagaline.saga.api_models import (
    HealthView,
    OperatorRequest,
    Problem,
    ReadinessView,
    SagaPageView,
    SagaView,
    StartSagaRequest,
)
from sagaline.saga.api_service import InvalidSagaData, SagaNotFound, SagaRefused, SagaService
from sagaline.saga.api_views import SagaViews
from sagaline.saga.coordinator import Coordinator
from sagaline.saga.engine import ConcurrentUpdateError, Engine
from sagaline.saga.registry import UnknownWorkflow
from sagaline.saga.settings import CoordinatorSettings
from sagaline.saga.state import SagaStatus

log = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
Readiness = Callable[[], Awaitable[dict[str, bool]]]

_PROBE_TIMEOUT = 1.0
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or wrong bearer token."},
    503: {"model": Problem, "description": "Redis or Kafka is not answering; retry."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such saga."}}
_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "The saga's state does not allow this; the detail says why."}
}


def create_api(
    backend: Coordinator | Engine,
    settings: CoordinatorSettings,
    *,
    lifespan: Lifespan | None = None,
) -> FastAPI:
    """The API over ``backend``: a ``Coordinator`` (readiness includes its Kafka consumer) or a
    bare ``Engine``. ``lifespan`` runs around serving, e.g. to start and stop the coordinator."""
    engine = backend.engine if isinstance(backend, Coordinator) else backend
    app = _assemble(settings.api_token, lifespan)
    app.state.sagas = SagaService(engine)
    app.state.views = SagaViews(engine.registry)
    app.state.readiness = _readiness(backend)
    return app


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document (independent of settings and of any running backend)."""
    return _assemble(SecretStr("openapi-document-only"), None).openapi()


def _assemble(token: SecretStr, lifespan: Lifespan | None) -> FastAPI:
    app = FastAPI(
        title="Sagaline coordinator API",
        version=package_version("sagaline-saga"),
        description="Start sagas, follow them, and resume or cancel the ones that need an operator.",
        lifespan=lifespan,
    )
    app.include_router(_saga_routes(), dependencies=[Depends(bearer_guard(token))], responses=_PROBLEMS)
    app.include_router(_probe_routes())
    _install_error_handlers(app)
    return app


def _service(request: Request) -> SagaService:
    return cast(SagaService, request.app.state.sagas)


def _views(request: Request) -> SagaViews:
    return cast(SagaViews, request.app.state.views)


Service = Annotated[SagaService, Depends(_service)]
Views = Annotated[SagaViews, Depends(_views)]


def _saga_routes() -> APIRouter:
    router = APIRouter(prefix="/sagas", tags=["sagas"])

    @router.post(
        "",
        status_code=http_status.HTTP_201_CREATED,
        operation_id="start_saga",
        response_description="The saga this start created.",
        responses={
            200: {
                "model": SagaView,
                "description": "The saga an earlier start with this idempotency key created, unchanged.",
            },
            404: {"model": Problem, "description": "Unknown workflow or version."},
        },
    )
    async def start_saga(
        body: StartSagaRequest, request: Request, response: Response, sagas: Service, views: Views
    ) -> SagaView:
        """Start a saga; a repeated start with the same idempotency key returns the same saga."""
        state, created = await sagas.start(body.workflow, body.version, body.idempotency_key, body.data)
        response.status_code = http_status.HTTP_201_CREATED if created else http_status.HTTP_200_OK
        response.headers["Location"] = str(request.url_for("get_saga", saga_id=state.saga_id).path)
        return views.view(state)

    @router.get("", operation_id="list_sagas")
    async def list_sagas(
        sagas: Service,
        views: Views,
        status: Annotated[SagaStatus | None, Query(description="Only sagas in this state.")] = None,
        workflow: Annotated[str | None, Query(description="`name` or `name@version`.")] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> SagaPageView:
        """Sagas newest first, filtered by state and/or workflow, one page at a time."""
        page = await sagas.list_sagas(status, workflow, offset, limit)
        following = offset + len(page.items)
        return SagaPageView(
            items=[views.summary(state) for state in page.items],
            total=page.total,
            offset=offset,
            limit=limit,
            next_offset=following if following < page.total else None,
        )

    @router.get("/{saga_id}", operation_id="get_saga", responses=_NOT_FOUND)
    async def get_saga(saga_id: str, sagas: Service, views: Views) -> SagaView:
        """One saga: state, current step and attempt, steps, compensation progress, history."""
        return views.view(await sagas.get(saga_id))

    @router.post("/{saga_id}/resume", operation_id="resume_saga", responses={**_NOT_FOUND, **_REFUSED})
    async def resume_saga(
        saga_id: str, sagas: Service, views: Views, body: Annotated[OperatorRequest | None, Body()] = None
    ) -> SagaView:
        """Retry the compensation that made a ``failed`` saga give up."""
        return views.view(await sagas.resume(saga_id, body.reason if body else ""))

    @router.post("/{saga_id}/cancel", operation_id="cancel_saga", responses={**_NOT_FOUND, **_REFUSED})
    async def cancel_saga(
        saga_id: str, sagas: Service, views: Views, body: Annotated[OperatorRequest | None, Body()] = None
    ) -> SagaView:
        """Roll a ``running`` saga back, or give up on a ``failed`` one (it becomes ``cancelled``)."""
        return views.view(await sagas.cancel(saga_id, body.reason if body else ""))

    return router


def _probe_routes() -> APIRouter:
    router = APIRouter(tags=["probes"])

    @router.get("/health", operation_id="health")
    async def health() -> HealthView:
        """Liveness: the process serves requests."""
        return HealthView()

    @router.get(
        "/ready",
        operation_id="ready",
        responses={503: {"model": ReadinessView, "description": "A dependency is not answering."}},
    )
    async def ready(request: Request, response: Response) -> ReadinessView:
        """Readiness: Redis answers and, with a coordinator, its Kafka consumer runs."""
        readiness = cast(Readiness, request.app.state.readiness)
        checks = await readiness()
        view = ReadinessView(ready=all(checks.values()), checks=checks)
        if not view.ready:
            response.status_code = http_status.HTTP_503_SERVICE_UNAVAILABLE
        return view

    @router.get(
        "/metrics",
        operation_id="metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus metrics."}},
    )
    async def metrics() -> Response:
        """Prometheus text exposition of this process's metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def _readiness(backend: Coordinator | Engine) -> Readiness:
    if isinstance(backend, Coordinator):
        coordinator = backend

        async def coordinator_checks() -> dict[str, bool]:
            broker = coordinator.broker
            consuming = broker.running and all(sub.running for sub in broker.subscribers)
            redis_up, kafka_up = await asyncio.gather(
                _redis_answers(coordinator.redis), broker.ping(timeout=_PROBE_TIMEOUT)
            )
            return {"redis": redis_up, "kafka": bool(kafka_up), "consuming": consuming}

        return coordinator_checks
    redis = backend.store.redis

    async def engine_checks() -> dict[str, bool]:
        return {"redis": await _redis_answers(redis)}

    return engine_checks


async def _redis_answers(redis: Redis) -> bool:
    try:
        return bool(await asyncio.wait_for(redis.ping(), _PROBE_TIMEOUT))
    except (RedisError, OSError, TimeoutError):
        return False


def _install_error_handlers(app: FastAPI) -> None:
    def problem(code: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def handle(_: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=code)

        return handle

    app.add_exception_handler(UnknownWorkflow, problem(http_status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(SagaNotFound, problem(http_status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(SagaRefused, problem(http_status.HTTP_409_CONFLICT))
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InvalidSagaData, _invalid_data)
    for unavailable in (RedisError, KafkaError, ConcurrentUpdateError):
        app.add_exception_handler(unavailable, _unavailable)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _unprocessable(exc.errors())


async def _invalid_data(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidSagaData)
    return _unprocessable([{**error, "loc": ["body", "data", *error["loc"]]} for error in exc.errors])


def _unprocessable(errors: Sequence[Any]) -> JSONResponse:
    # Pydantic echoes the offending input (for a missing field: the whole body, card token and
    # all); the field name and the message say enough, so the input never goes back out.
    detail = [
        {
            "type": error["type"],
            "loc": list(error["loc"]),
            "msg": error["msg"],
            **({"ctx": {k: _plain(v) for k, v in error["ctx"].items()}} if error.get("ctx") else {}),
        }
        for error in errors
    ]
    return JSONResponse({"detail": detail}, status_code=http_status.HTTP_422_UNPROCESSABLE_CONTENT)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.error("request failed on an unavailable dependency: %r", exc)
    detail = "Redis or Kafka is not answering; retry (a start with the same idempotency key is safe)"
    return JSONResponse({"detail": detail}, status_code=http_status.HTTP_503_SERVICE_UNAVAILABLE)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sagaline.saga.api", description=__doc__)
    parser.add_argument("--export-openapi", metavar="PATH", type=Path, required=True)
    args = parser.parse_args(argv)
    args.export_openapi.write_text(render_openapi(), encoding="utf-8")
    print(f"wrote {args.export_openapi}")


def render_openapi() -> str:
    """The OpenAPI document exactly as checked in."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    main()
