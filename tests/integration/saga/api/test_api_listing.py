"""Listing sagas: newest first, filtered by state and workflow, one page at a time."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
async def five_sagas(api, start_order):
    """Five order sagas, oldest first; the first two cancelled (compensating)."""
    ids = [(await start_order(f"k-list-{i}"))["saga_id"] for i in range(5)]
    for saga_id in ids[:2]:
        assert (await api.post(f"/sagas/{saga_id}/cancel")).status_code == 200
    return ids


async def test_pages_walk_every_saga_newest_first(api, five_sagas):
    seen = []
    offset = 0
    while offset is not None:
        page = (await api.get("/sagas", params={"limit": 2, "offset": offset})).json()
        assert page["total"] == 5
        assert page["limit"] == 2
        assert page["offset"] == offset
        assert len(page["items"]) <= 2
        seen += page["items"]
        offset = page["next_offset"]
    assert sorted(item["saga_id"] for item in seen) == sorted(five_sagas), "each saga exactly once"
    created = [item["created_at"] for item in seen]
    assert created == sorted(created, reverse=True)


async def test_the_last_page_has_no_next_offset_and_past_the_end_is_empty(api, five_sagas):
    first_four = (await api.get("/sagas", params={"limit": 4})).json()
    last = (await api.get("/sagas", params={"limit": 2, "offset": 4})).json()
    assert first_four["next_offset"] == 4
    assert len(last["items"]) == 1
    assert last["items"][0]["saga_id"] not in {i["saga_id"] for i in first_four["items"]}
    assert last["next_offset"] is None
    beyond = (await api.get("/sagas", params={"offset": 50})).json()
    assert beyond["items"] == []
    assert beyond["total"] == 5
    assert beyond["next_offset"] is None


async def test_filters_by_state_and_by_workflow(api, five_sagas):
    compensating = (await api.get("/sagas", params={"status": "compensating"})).json()
    assert compensating["total"] == 2
    assert {i["saga_id"] for i in compensating["items"]} == set(five_sagas[:2])
    assert {i["status"] for i in compensating["items"]} == {"compensating"}

    running = (await api.get("/sagas", params={"status": "running", "limit": 1})).json()
    assert running["total"] == 3
    assert running["next_offset"] == 1
    assert running["items"][0]["current_step"] == "reserve_inventory"

    by_name = (await api.get("/sagas", params={"workflow": "order_processing_workflow"})).json()
    by_version = (await api.get("/sagas", params={"workflow": "order_processing_workflow@1.0.0"})).json()
    assert by_name["total"] == by_version["total"] == 5
    assert (await api.get("/sagas", params={"workflow": "other_workflow"})).json()["total"] == 0


async def test_list_items_carry_no_saga_data(api, five_sagas, order):
    response = await api.get("/sagas")
    assert "data" not in response.json()["items"][0]
    assert order["order_id"] not in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "sleeping"}, "status"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset")],
)
async def test_bad_list_parameters_get_422_naming_the_parameter(api, params, field):
    response = await api.get("/sagas", params=params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", field]]
