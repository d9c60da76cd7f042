"""Starting sagas idempotently, validating their data, and reading one back without its secrets."""

from __future__ import annotations

import pytest
from sagaline.contracts.templates.inventory import StockReserved
from sagaline.saga.api_service import saga_id_for

pytestmark = pytest.mark.integration


def _start_body(order, key="k-1", **changes):
    return {"workflow": "order_processing_workflow", "idempotency_key": key, "data": order, **changes}


async def test_a_repeated_start_with_the_same_key_returns_the_same_saga(api, coordinator, order):
    first = await api.post("/sagas", json=_start_body(order, "order-1001"))
    assert first.status_code == 201
    saga_id = first.json()["saga_id"]
    assert saga_id == saga_id_for("order_processing_workflow", "order-1001")
    assert first.headers["Location"] == f"/sagas/{saga_id}"

    again = await api.post("/sagas", json=_start_body(order, "order-1001"))
    assert again.status_code == 200
    assert again.json()["saga_id"] == saga_id
    assert again.json()["version"] == first.json()["version"], "a repeat must not move the saga"

    other = await api.post("/sagas", json=_start_body(order, "order-1002"))
    assert other.status_code == 201
    assert other.json()["saga_id"] != saga_id
    assert (await coordinator.store.list_sagas()).total == 2


async def test_a_start_on_an_explicit_version_runs_that_version(api, order):
    response = await api.post("/sagas", json=_start_body(order, version="1.0.0"))
    assert response.status_code == 201
    assert response.json()["workflow_version"] == "1.0.0"


@pytest.mark.parametrize(
    ("changes", "field", "leaked"),
    [
        ({"card_token": ""}, "card_token", None),
        ({"customer_email": "not-an-email@"}, "customer_email", "not-an-email@"),
        ({"amount_cents": -5}, "amount_cents", None),
        ({"items": [{"sku": "sku-mug", "quantity": 0}]}, "items.0.quantity", None),
        ({"surprise": "field"}, "surprise", None),
    ],
)
async def test_when_the_saga_data_is_invalid_the_answer_is_422_naming_the_field(
    api, coordinator, order, changes, field, leaked
):
    response = await api.post("/sagas", json=_start_body({**order, **changes}))
    assert response.status_code == 422
    locations = [".".join(map(str, e["loc"])) for e in response.json()["detail"]]
    assert locations == [f"body.data.{field}"]
    assert order["card_token"] not in response.text
    if leaked:
        assert leaked not in response.text, "the rejected value must not be echoed back"
    assert (await coordinator.store.list_sagas()).total == 0, "nothing is stored for a bad start"


async def test_when_the_body_itself_is_invalid_the_answer_names_the_field_and_hides_the_input(
    api, coordinator, order
):
    response = await api.post("/sagas", json={"workflow": "order_processing_workflow", "data": order})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [e["loc"] for e in detail] == [["body", "idempotency_key"]]
    assert order["card_token"] not in response.text
    assert (await coordinator.store.list_sagas()).total == 0


@pytest.mark.parametrize(
    ("workflow", "version", "message"),
    [
        (
            "no_such_workflow",
            None,
            "no workflow called 'no_such_workflow' (registered: order_processing_workflow)",
        ),
        (
            "order_processing_workflow",
            "9.9.9",
            "no workflow order_processing_workflow@9.9.9 (registered versions: 1.0.0)",
        ),
    ],
)
async def test_an_unknown_workflow_or_version_gets_404_saying_what_exists(
    api, order, workflow, version, message
):
    body = {"workflow": workflow, "idempotency_key": "k", "data": order}
    if version:
        body["version"] = version
    response = await api.post("/sagas", json=body)
    assert response.status_code == 404
    assert response.json() == {"detail": message}


async def test_get_shows_the_current_step_and_history_with_sensitive_fields_masked(
    api, jobs, start_order, order
):
    saga_id = (await start_order("k-get"))["saga_id"]

    response = await api.get(f"/sagas/{saga_id}")
    assert response.status_code == 200
    view = response.json()
    assert view["status"] == "running"
    assert (view["current_step"], view["phase"], view["attempt"], view["provider"]) == (
        "reserve_inventory",
        "forward",
        1,
        "reservation",
    )
    assert view["remaining_steps"] == ["charge_payment", "create_shipment", "send_confirmation"]
    assert [(e["event"], e["step"]) for e in view["history"]] == [
        ("started", ""),
        ("command_sent", "reserve_inventory"),
    ]
    assert view["data"]["card_token"] == "****"
    assert view["data"]["customer_email"] == "****"
    assert view["data"]["order_id"] == order["order_id"]
    assert order["card_token"] not in response.text
    assert order["customer_email"] not in response.text
    assert view["compensation"] is None

    await jobs.reply(saga_id, StockReserved(order_id=order["order_id"], reservation_id="res-1"))
    view = (await api.get(f"/sagas/{saga_id}")).json()
    assert (view["current_step"], view["provider"]) == ("charge_payment", "stripe")
    assert [s["state"] for s in view["steps"]] == ["succeeded", "in_progress", "pending", "pending"]
    assert view["steps"][0]["outcomes"] == [{"provider": "reservation", "outcome": "succeeded", "detail": ""}]
    assert view["data"]["reservation_id"] == "res-1"
    assert view["remaining_steps"] == ["create_shipment", "send_confirmation"]
    assert "step_succeeded" in [e["event"] for e in view["history"]]
    assert order["card_token"] not in (await api.get(f"/sagas/{saga_id}")).text


async def test_an_unknown_saga_is_404(api):
    response = await api.get("/sagas/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"detail": "no saga does-not-exist"}
