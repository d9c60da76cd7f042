"""The checked-in OpenAPI document is the one the code generates, and it documents the guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sagaline.saga.api import openapi_document, render_openapi

pytestmark = pytest.mark.unit

CHECKED_IN = Path(__file__).resolve().parents[4] / "saga" / "openapi.json"
REGENERATE = "uv run python -m sagaline.saga.api --export-openapi saga/openapi.json"


def test_the_checked_in_openapi_document_matches_the_code():
    assert CHECKED_IN.exists(), f"saga/openapi.json is missing; create it with: {REGENERATE}"
    if CHECKED_IN.read_text(encoding="utf-8") != render_openapi():
        pytest.fail(f"saga/openapi.json is out of date with the API; regenerate it with: {REGENERATE}")


def test_every_saga_operation_requires_the_bearer_token_and_probes_do_not():
    document = openapi_document()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            guarded = operation.get("security") == [{"HTTPBearer": []}]
            assert guarded == path.startswith("/sagas"), f"{method.upper()} {path}"
            if guarded:
                assert "401" in operation["responses"], f"{method.upper()} {path} does not document 401"


def test_the_start_request_names_its_fields_and_forbids_others():
    schema = openapi_document()["components"]["schemas"]["StartSagaRequest"]
    assert set(schema["required"]) == {"workflow", "idempotency_key", "data"}
    assert schema["additionalProperties"] is False
    assert json.dumps(schema)  # plain JSON, nothing the exporter could not write
