"""The mapping language of saga definitions."""

from __future__ import annotations

import pytest
from sagaline.saga.mapping import MissingPath, build, path_problem, paths, resolve

pytestmark = pytest.mark.unit

DATA = {"order_id": "o-1", "address": {"city": "London"}, "items": [{"sku": "a"}, {"sku": "b"}], "n": 3}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("$.order_id", "o-1"),
        ("$.address.city", "London"),
        ("$.items.1.sku", "b"),
        ("$", DATA),
        ("plain text", "plain text"),
        (42, 42),
        (None, None),
        ("Order {$.order_id} has {$.n} items", "Order o-1 has 3 items"),
        ({"id": "$.order_id", "fixed": True}, {"id": "o-1", "fixed": True}),
        (["$.n", "x"], [3, "x"]),
    ],
)
def test_specs_resolve_against_the_source(spec: object, expected: object) -> None:
    assert resolve(spec, DATA) == expected


@pytest.mark.parametrize("spec", ["$.missing", "$.items.5.sku", "$.order_id.deeper", "Hi {$.nobody}"])
def test_a_missing_path_is_reported_by_path(spec: str) -> None:
    with pytest.raises(MissingPath):
        resolve(spec, DATA)


def test_build_leaves_out_fields_whose_path_is_missing() -> None:
    assert build({"order_id": "$.order_id", "charge_id": "$.charge_id"}, DATA) == {"order_id": "o-1"}


def test_paths_lists_every_path_read_including_placeholders() -> None:
    spec = {"a": "$.x", "b": ["Hi {$.y.z}", {"c": "$.w"}], "d": 1}
    assert sorted(paths(spec)) == ["$.w", "$.x", "$.y.z"]


@pytest.mark.parametrize(
    ("path", "ok"), [("$.a_b.0.c", True), ("$", True), ("$.a b", False), ("$..a", False)]
)
def test_path_syntax_is_checked(path: str, ok: bool) -> None:
    assert (path_problem(path) is None) is ok
