"""The versioning rules on crafted changes: each case names the message and field it flags."""

from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field
from sagaline.contracts.schema_diff import Change, Level, diff_message, diff_messages
from sagaline.contracts.versioning import accepts, bump_level, check_template

pytestmark = pytest.mark.contract

MESSAGE = "shop.OrderPlaced"


class Line(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class OrderPlaced(BaseModel):
    # Every variant below keeps the wire title, as a real model edit keeps its class name.
    model_config = ConfigDict(title="OrderPlaced")


class V1(OrderPlaced):
    order_id: str
    amount_cents: int
    currency: Literal["USD", "EUR", "GBP"] = "USD"
    lines: list[Line] = []
    note: str | None = None


def doc(version: str, *models: type[BaseModel], names: tuple[str, ...] = (MESSAGE,)) -> dict[str, Any]:
    return {
        "template": "shop",
        "version": version,
        "messages": {name: model.model_json_schema() for name, model in zip(names, models, strict=True)},
    }


def problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return list(check_template("shop", old, new).problems)


def only_change(old: type[BaseModel], new: type[BaseModel]) -> Change:
    changes = diff_message(MESSAGE, old.model_json_schema(), new.model_json_schema())
    assert len(changes) == 1, changes
    return changes[0]


# --- breaking changes -------------------------------------------------------------------------


class RemovedField(OrderPlaced):
    order_id: str
    currency: Literal["USD", "EUR", "GBP"] = "USD"
    lines: list[Line] = []
    note: str | None = None


def test_removed_field_without_major_bump_is_flagged_by_name() -> None:
    assert problems(doc("1.0.0", V1), doc("1.1.0", RemovedField)) == [
        "shop: shop.OrderPlaced field amount_cents: field removed "
        "(needs a major bump; version 1.0.0 -> 1.1.0)"
    ]


class Renamed(OrderPlaced):
    order_id: str
    total_cents: int
    currency: Literal["USD", "EUR", "GBP"] = "USD"
    lines: list[Line] = []
    note: str | None = None


def test_renamed_field_is_a_removal_plus_a_new_required_field() -> None:
    changes = diff_message(MESSAGE, V1.model_json_schema(), Renamed.model_json_schema())
    assert {(c.field, c.detail, c.level) for c in changes} == {
        ("amount_cents", "field removed", Level.MAJOR),
        ("total_cents", "new required field", Level.MAJOR),
    }


class Retyped(OrderPlaced):
    order_id: str
    amount_cents: str
    currency: Literal["USD", "EUR", "GBP"] = "USD"
    lines: list[Line] = []
    note: str | None = None


def test_retyped_field_is_breaking() -> None:
    change = only_change(V1, Retyped)
    assert (change.level, change.field) == (Level.MAJOR, "amount_cents")
    assert change.detail == "type changed from integer to string"


class NewRequired(V1):
    customer_id: str


def test_new_required_field_is_breaking() -> None:
    assert problems(doc("1.0.0", V1), doc("1.1.0", NewRequired)) == [
        "shop: shop.OrderPlaced field customer_id: new required field "
        "(needs a major bump; version 1.0.0 -> 1.1.0)"
    ]


class Narrowed(OrderPlaced):
    order_id: str
    amount_cents: int
    currency: Literal["USD", "EUR"] = "USD"
    lines: list[Line] = []
    note: str | None = None


def test_narrowed_literal_is_breaking_and_names_the_lost_value() -> None:
    change = only_change(V1, Narrowed)
    assert (change.level, change.field) == (Level.MAJOR, "currency")
    assert change.detail == 'narrowed: no longer accepts "GBP"'


class Widened(OrderPlaced):
    order_id: str
    amount_cents: int
    currency: Literal["USD", "EUR", "GBP", "JPY"] = "USD"
    lines: list[Line] = []
    note: str | None = None


def test_widened_literal_is_breaking_because_old_consumers_reject_the_new_value() -> None:
    change = only_change(V1, Widened)
    assert (change.level, change.field) == (Level.MAJOR, "currency")
    assert change.detail.startswith('widened: now also accepts "JPY"')


class NestedLine(BaseModel):
    sku: str
    quantity: str


class NestedRetyped(V1):
    lines: list[NestedLine] = []  # type: ignore[assignment]


def test_change_inside_a_referenced_model_names_the_nested_field() -> None:
    changes = diff_message(MESSAGE, V1.model_json_schema(), NestedRetyped.model_json_schema())
    breaking = [(c.field, c.detail) for c in changes if c.level is Level.MAJOR]
    assert breaking == [("lines[].quantity", "type changed from integer to string")]


class Tightened(V1):
    order_id: str = Field(min_length=3)


def test_changed_constraint_is_breaking() -> None:
    change = only_change(V1, Tightened)
    assert (change.level, change.field) == (Level.MAJOR, "order_id")
    assert change.detail == "constraint minLength changed from (none) to 3"


class MadeNullable(V1):
    order_id: str | None  # type: ignore[assignment]


def test_making_a_field_nullable_is_a_type_change() -> None:
    change = only_change(V1, MadeNullable)
    assert (change.field, change.detail) == ("order_id", "type changed from string to string|null")


class NowOptional(V1):
    amount_cents: int = 0


def test_required_field_becoming_optional_is_breaking_for_old_consumers() -> None:
    details = {
        (c.field, c.level, c.detail.split(":")[0])
        for c in diff_messages({MESSAGE: V1.model_json_schema()}, {MESSAGE: NowOptional.model_json_schema()})
    }
    assert ("amount_cents", Level.MAJOR, "no longer required") in details


def test_removed_message_is_breaking() -> None:
    old = doc("1.0.0", V1, Line, names=(MESSAGE, "shop.LineAdded"))
    assert problems(old, doc("1.1.0", V1)) == [
        "shop: shop.LineAdded: message removed (needs a major bump; version 1.0.0 -> 1.1.0)"
    ]


def test_major_bump_allows_breaking_changes() -> None:
    check = check_template("shop", doc("1.4.2", V1), doc("2.0.0", RemovedField))
    assert check.ok
    assert [str(c) for c in check.changes] == ["shop.OrderPlaced field amount_cents: field removed"]


def test_every_breaking_change_is_listed_when_the_bump_is_too_small() -> None:
    lines = problems(doc("1.0.0", V1), doc("1.0.1", Renamed))
    assert [line.split(":")[1].strip() for line in lines] == [
        "shop.OrderPlaced field amount_cents",
        "shop.OrderPlaced field total_cents",
    ]


# --- compatible changes -----------------------------------------------------------------------


class AddedOptional(V1):
    coupon: str | None = Field(default=None, description="Promotion code, if any.")


def test_added_optional_field_with_minor_bump_is_consistent() -> None:
    check = check_template("shop", doc("1.0.0", V1), doc("1.1.0", AddedOptional))
    assert check.ok, check.problems
    assert [(c.level, c.field, c.detail) for c in check.changes] == [
        (Level.MINOR, "coupon", "optional field added")
    ]


def test_added_optional_field_without_bump_is_flagged() -> None:
    assert problems(doc("1.0.0", V1), doc("1.0.0", AddedOptional)) == [
        "shop: shop.OrderPlaced field coupon: optional field added "
        "(needs a minor bump; version 1.0.0 -> 1.0.0)"
    ]


def test_added_optional_field_with_patch_bump_is_flagged() -> None:
    assert len(problems(doc("1.0.0", V1), doc("1.0.1", AddedOptional))) == 1


def test_major_bump_for_only_compatible_changes_is_flagged() -> None:
    assert problems(doc("1.0.0", V1), doc("2.0.0", AddedOptional)) == [
        "shop: major bump (version 1.0.0 -> 2.0.0) but the schema changes only need a minor bump"
    ]


def test_added_message_needs_a_minor_bump() -> None:
    new = doc("1.1.0", V1, Line, names=(MESSAGE, "shop.LineAdded"))
    assert check_template("shop", doc("1.0.0", V1), new).ok
    assert problems(doc("1.0.0", V1), {**new, "version": "1.0.0"}) == [
        "shop: shop.LineAdded: message added (needs a minor bump; version 1.0.0 -> 1.0.0)"
    ]


class Documented(V1):
    """Placed by the storefront."""


def test_documentation_change_needs_a_patch_bump() -> None:
    change = only_change(V1, Documented)
    assert (change.level, change.field, change.detail) == (Level.PATCH, None, "description changed")
    assert str(change) == "shop.OrderPlaced: description changed"
    assert check_template("shop", doc("1.0.0", V1), doc("1.0.1", Documented)).ok
    assert len(problems(doc("1.0.0", V1), doc("1.0.0", Documented))) == 1


@pytest.mark.parametrize("new_version", ["1.0.1", "1.1.0", "2.0.0"])
def test_bump_without_any_schema_change_is_flagged(new_version: str) -> None:
    [line] = problems(doc("1.0.0", V1), doc(new_version, V1))
    assert line.endswith(f"(version 1.0.0 -> {new_version}) but no message schema changed")


def test_identical_schemas_and_versions_are_consistent() -> None:
    check = check_template("shop", doc("1.2.3", V1), doc("1.2.3", V1))
    assert (check.ok, check.changes, check.summary()) == (True, (), "shop 1.2.3: schemas unchanged")


def test_version_going_backwards_is_flagged() -> None:
    assert problems(doc("1.2.0", V1), doc("1.1.0", V1)) == ["shop: version went backwards: 1.2.0 -> 1.1.0"]


def test_removed_template_is_flagged_and_new_template_is_not() -> None:
    assert check_template("shop", None, doc("1.0.0", V1)).ok
    [line] = check_template("shop", doc("1.0.0", V1), None).problems
    assert line.startswith("shop: template removed")


# --- structural details -----------------------------------------------------------------------


class Node(BaseModel):
    name: str
    children: list["Node"] = []


class NodeV2(BaseModel):
    name: str
    children: list["NodeV2"] = []
    weight: int = 1


def test_recursive_models_are_compared_without_looping() -> None:
    changes = diff_message(MESSAGE, Node.model_json_schema(), NodeV2.model_json_schema())
    assert ("weight", Level.MINOR) in {(c.field, c.level) for c in changes}
    assert max(c.level for c in changes) is Level.MINOR


class WithOptionalLine(BaseModel):
    line: Line | None = None


class RichLine(Line):
    gift: bool = False


class WithOptionalRichLine(BaseModel):
    line: RichLine | None = None


def test_change_inside_an_optional_nested_model_is_found_through_any_of() -> None:
    changes = diff_message(
        MESSAGE, WithOptionalLine.model_json_schema(), WithOptionalRichLine.model_json_schema()
    )
    assert ("line.gift", Level.MINOR, "optional field added") in {
        (c.field, c.level, c.detail) for c in changes
    }
    assert max(c.level for c in changes) is Level.MINOR


def test_unresolvable_ref_is_a_clear_error() -> None:
    broken = {"properties": {"x": {"$ref": "#/$defs/Missing"}}, "type": "object"}
    with pytest.raises(ValueError, match="unresolvable \\$ref '#/\\$defs/Missing'"):
        diff_message(MESSAGE, broken, broken)


@pytest.mark.parametrize(
    ("old", "new", "level"),
    [
        ("1.0.0", "1.0.0", Level.NONE),
        ("1.0.0", "1.0.7", Level.PATCH),
        ("1.0.9", "1.1.0", Level.MINOR),
        ("1.9.9", "2.0.0", Level.MAJOR),
    ],
)
def test_bump_level(old: str, new: str, level: Level) -> None:
    assert bump_level(old, new) is level


# --- consumers across versions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("consumer", "message", "accepted"),
    [
        ("1.0.0", "1.0.0", True),
        ("1.0.0", "1.7.3", True),
        ("1.7.3", "1.0.0", True),
        ("1.2.0", "2.0.0", False),
        ("2.0.0", "1.9.9", False),
        ("0.1.0", "1.0.0", False),
        ("1.0.0", "1.0", False),
        ("1.0.0", "garbage", False),
    ],
)
def test_consumer_accepts_any_minor_or_patch_of_its_major_only(
    consumer: str, message: str, accepted: bool
) -> None:
    assert accepts(consumer, message) is accepted


def test_invalid_consumer_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not valid SemVer"):
        accepts("1", "1.0.0")
