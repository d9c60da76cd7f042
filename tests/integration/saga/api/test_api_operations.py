"""Operator actions through the API: cancel and resume, and the 409s when the state forbids them."""

from __future__ import annotations

import pytest
from sagaline.contracts.templates.inventory import ReleaseFailed, StockReserved
from sagaline.contracts.templates.notification import NotificationSent
from sagaline.contracts.templates.payment_gateway import PaymentCharged, PaymentDeclined
from sagaline.contracts.templates.shipping import ShipmentCreated

pytestmark = pytest.mark.integration


async def _failed_saga(start_order, jobs, order, key):
    """A saga whose stock release gave up: declined payment, then a non-retryable release failure."""
    saga_id = (await start_order(key))["saga_id"]
    await jobs.reply(saga_id, StockReserved(order_id=order["order_id"], reservation_id="res-1"))
    await jobs.reply(saga_id, PaymentDeclined(reason="card declined", decline_code="card_declined"))
    state = await jobs.reply(saga_id, ReleaseFailed(reason="warehouse offline"))
    assert state.status == "failed", state.history
    return saga_id


async def test_cancelling_a_running_saga_starts_compensating_what_may_have_happened(api, start_order):
    saga_id = (await start_order("k-cancel"))["saga_id"]
    response = await api.post(f"/sagas/{saga_id}/cancel", json={"reason": "customer called"})
    assert response.status_code == 200
    view = response.json()
    assert view["status"] == "compensating"
    assert view["rollback_reason"] == "cancelled by operator: customer called"
    assert view["compensation"]["current"] == "release_inventory"
    assert [t["compensation"] for t in view["compensation"]["remaining"]] == ["release_inventory"]
    assert view["steps"][0]["state"] == "uncertain"
    assert (await api.get(f"/sagas/{saga_id}")).json()["status"] == "compensating", "the change is stored"


async def test_resuming_a_running_saga_is_409_with_the_reason(api, start_order):
    saga_id = (await start_order("k-resume-running"))["saga_id"]
    response = await api.post(f"/sagas/{saga_id}/resume")
    assert response.status_code == 409
    assert response.json() == {"detail": "only a failed saga can be resumed; saga is running"}


async def test_cancelling_a_compensating_saga_is_409(api, start_order):
    saga_id = (await start_order("k-cancel-twice"))["saga_id"]
    assert (await api.post(f"/sagas/{saga_id}/cancel")).status_code == 200
    response = await api.post(f"/sagas/{saga_id}/cancel")
    assert response.status_code == 409
    assert response.json() == {"detail": "cannot cancel a saga that is compensating"}


async def test_a_failed_saga_shows_why_and_can_be_resumed_then_given_up_on(api, jobs, start_order, order):
    saga_id = await _failed_saga(start_order, jobs, order, "k-failed")
    view = (await api.get(f"/sagas/{saga_id}")).json()
    assert view["status"] == "failed"
    assert "release_inventory on reservation failed" in view["failure_reason"]
    assert "warehouse offline" in view["failure_reason"]
    assert view["rollback_reason"].startswith("charge_payment declined by stripe")
    assert [t["compensation"] for t in view["compensation"]["remaining"]] == ["release_inventory"]
    assert view["compensation"]["done"] == []
    assert [s["state"] for s in view["steps"]] == ["succeeded", "declined", "not_run", "not_run"]

    resumed = await api.post(f"/sagas/{saga_id}/resume", json={"reason": "warehouse back"})
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "compensating"
    assert resumed.json()["resumes"] == 1
    assert resumed.json()["compensation"]["current"] == "release_inventory"

    state = await jobs.reply(saga_id, ReleaseFailed(reason="still offline"))
    assert state.status == "failed"
    cancelled = await api.post(f"/sagas/{saga_id}/cancel", json={"reason": "handled by hand"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"

    again = await api.post(f"/sagas/{saga_id}/resume")
    assert again.status_code == 409
    assert again.json() == {"detail": "only a failed saga can be resumed; saga is cancelled"}


async def test_cancelling_a_completed_saga_is_409(api, jobs, start_order, order):
    saga_id = (await start_order("k-completed"))["saga_id"]
    oid = order["order_id"]
    await jobs.reply(saga_id, StockReserved(order_id=oid, reservation_id="res-1"))
    await jobs.reply(
        saga_id, PaymentCharged(order_id=oid, charge_id="ch-1", amount_cents=2599, currency="EUR")
    )
    await jobs.reply(saga_id, ShipmentCreated(order_id=oid, shipment_id="sh-1", tracking_number="1Z"))
    await jobs.reply(saga_id, NotificationSent(order_id=oid, delivery_id="d-1"))

    view = (await api.get(f"/sagas/{saga_id}")).json()
    assert view["status"] == "completed"
    assert view["current_step"] is None
    assert [s["state"] for s in view["steps"]] == ["succeeded"] * 4
    response = await api.post(f"/sagas/{saga_id}/cancel")
    assert response.status_code == 409
    assert response.json() == {"detail": "cannot cancel a saga that is completed"}


@pytest.mark.parametrize("action", ["resume", "cancel"])
async def test_an_operator_action_on_an_unknown_saga_is_404(api, action):
    response = await api.post(f"/sagas/nope/{action}")
    assert response.status_code == 404
    assert response.json() == {"detail": "no saga nope"}


async def test_an_operator_reason_longer_than_allowed_is_422(api, start_order):
    saga_id = (await start_order("k-long-reason"))["saga_id"]
    response = await api.post(f"/sagas/{saga_id}/cancel", json={"reason": "x" * 501})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "reason"]]
