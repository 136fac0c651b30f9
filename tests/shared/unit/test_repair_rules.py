"""The rules `itsm repair` checks stored values by: the same bounds the API takes input within
(shared.json_limits), and what a repaired value becomes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.json_limits import MAX_JSON_BYTES, MAX_JSON_DEPTH, bounded_json, cut_at_depth, json_depth_over, json_size
from shared.repair import CUT_MARKER, FREE_JSON_OBJECT, REPLACED_KEY, REQUIRED_TEXT, Unreadable, decoded_json


def nested(depth: int, leaf: Any = None) -> Any:
    value: Any = {} if leaf is None else leaf
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "value", [nested(MAX_JSON_DEPTH), {"blob": "x" * (MAX_JSON_BYTES - 20)}, {}, {"list": [1, [2, [3]]]}]
)
def test_a_value_the_api_accepts_needs_no_repair(value: dict[str, Any]) -> None:
    assert bounded_json(value) == value
    assert FREE_JSON_OBJECT.diagnose(value) is None


@pytest.mark.parametrize("value", [nested(MAX_JSON_DEPTH + 1), {"blob": "x" * MAX_JSON_BYTES}])
def test_a_value_the_api_refuses_is_found_and_its_repair_is_accepted(value: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"nested deeper|larger than") as refused:
        bounded_json(value)
    assert FREE_JSON_OBJECT.diagnose(value) == str(refused.value)
    assert bounded_json(FREE_JSON_OBJECT.repaired(value)) is not None


def test_a_deep_branch_is_cut_at_the_limit_and_says_so_the_rest_is_kept() -> None:
    value = {"cpu": 4, "deep": nested(300), "tags": ["a", {"b": 1}]}
    repaired = FREE_JSON_OBJECT.repaired(value)
    assert (repaired["cpu"], repaired["tags"]) == (4, ["a", {"b": 1}])
    branch = repaired["deep"]
    for _ in range(MAX_JSON_DEPTH - 2):
        branch = branch["a"]
    assert branch == {"a": CUT_MARKER}
    assert not json_depth_over(repaired, MAX_JSON_DEPTH)
    assert json_depth_over(cut_at_depth(nested(40), MAX_JSON_DEPTH + 1, CUT_MARKER), MAX_JSON_DEPTH)


def test_arrays_are_cut_like_objects() -> None:
    value: Any = []
    for _ in range(50):
        value = [value]
    cut = cut_at_depth(value, 3, "cut")
    assert cut == [[["cut"]]]


def test_an_oversize_value_is_replaced_by_a_marker_naming_its_size() -> None:
    value = {"blob": "x" * (MAX_JSON_BYTES + 1)}
    repaired = FREE_JSON_OBJECT.repaired(value)
    assert list(repaired) == [REPLACED_KEY]
    assert f"{json_size(value)} bytes" in repaired[REPLACED_KEY]


@pytest.mark.parametrize(("value", "named"), [(None, "NULL"), ([1], "list"), ("text", "str")])
def test_what_is_no_object_becomes_an_empty_one(value: Any, named: str) -> None:
    why = FREE_JSON_OBJECT.diagnose(value)
    assert why is not None and named in why
    assert FREE_JSON_OBJECT.repaired(value) == {}


def test_json_too_deep_to_parse_is_found_and_replaced() -> None:
    stored = "[" * 100_000 + "]" * 100_000
    value = decoded_json(stored)
    assert isinstance(value, Unreadable)
    assert "cannot be parsed" in str(FREE_JSON_OBJECT.diagnose(value))
    assert REPLACED_KEY in FREE_JSON_OBJECT.repaired(value)
    assert decoded_json(json.dumps({"a": 1})) == {"a": 1}
    assert decoded_json(None) is None


def test_null_required_text_becomes_empty_text() -> None:
    assert REQUIRED_TEXT.diagnose(None) == "NULL in a field the record requires"
    assert REQUIRED_TEXT.diagnose("") is None
    assert REQUIRED_TEXT.repaired(None) == ""
