"""The shared input bounds: free-form JSON depth and size, offset and limit bounds, PATCH null on a
required field, non-UTF-8 bodies and the JSON content type: each a 4xx problem, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError

from shared.deps import MAX_OFFSET, Limit, Offset
from shared.http import ApiModel, UpdateModel, install_problem_handlers, json_bodies_only
from shared.json_limits import MAX_JSON_BYTES, MAX_JSON_DEPTH, FreeJson
from shared.storable_text import text_without_nul


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


class Holder(BaseModel):
    attributes: FreeJson


def test_free_json_takes_an_object_up_to_the_depth_limit() -> None:
    assert Holder(attributes=nested(MAX_JSON_DEPTH)).attributes == nested(MAX_JSON_DEPTH)
    assert Holder(attributes={"list": [[1, 2], {"x": None}], "n": 1.5}).attributes["n"] == 1.5


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 300, 5000])
def test_free_json_refuses_an_object_nested_deeper_than_the_limit(depth: int) -> None:
    with pytest.raises(ValidationError) as caught:
        Holder(attributes=nested(depth))
    (error,) = caught.value.errors()
    assert error["loc"] == ("attributes",)
    assert f"deeper than {MAX_JSON_DEPTH}" in error["msg"]


def test_free_json_counts_lists_as_levels_too() -> None:
    value: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        value = [value]
    with pytest.raises(ValidationError):
        Holder(attributes={"deep": value})


def test_free_json_refuses_an_object_over_the_size_limit() -> None:
    Holder(attributes={"blob": "x" * (MAX_JSON_BYTES - 100)})
    with pytest.raises(ValidationError) as caught:
        Holder(attributes={"blob": "x" * MAX_JSON_BYTES})
    assert f"larger than {MAX_JSON_BYTES} bytes" in caught.value.errors()[0]["msg"]


class Edit(UpdateModel):
    required_on_record = ("name",)

    name: str | None = Field(default=None, min_length=1)
    owner: str | None = None


def test_a_patch_body_refuses_null_on_a_required_field_naming_it() -> None:
    with pytest.raises(ValidationError) as caught:
        Edit.model_validate({"name": None})
    (error,) = caught.value.errors()
    assert error["loc"] == ("name",)
    assert "cannot be null" in error["msg"]
    assert Edit.model_validate({"owner": None}).model_fields_set == {"owner"}
    assert Edit.model_validate({}).name is None


class Body(ApiModel):
    title: str


def app() -> TestClient:
    api = FastAPI(dependencies=[json_bodies_only(), text_without_nul()])
    install_problem_handlers(api)

    @api.get("/items")
    async def items(limit: Limit = 50, offset: Offset = 0) -> dict[str, int]:
        return {"limit": limit, "offset": offset}

    @api.get("/items/{name}")
    async def search(name: str, q: str | None = None) -> dict[str, str | None]:
        return {"name": name, "q": q}

    @api.post("/items")
    async def create(body: Body) -> dict[str, str]:
        return {"title": body.title}

    @api.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return TestClient(api)


@pytest.mark.parametrize("offset", [MAX_OFFSET + 1, 2**63, 10**30])
def test_an_offset_over_the_bound_is_a_422_naming_it(offset: int) -> None:
    r = app().get("/items", params={"offset": offset})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["offset"]
    assert app().get("/items", params={"offset": MAX_OFFSET}).json() == {"limit": 50, "offset": MAX_OFFSET}


def test_a_limit_over_the_bound_is_a_422_naming_it() -> None:
    r = app().get("/items", params={"limit": 2**63})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["limit"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/csv"])
def test_a_json_route_answers_415_to_another_content_type(content_type: str) -> None:
    r = app().post("/items", content=json.dumps({"title": "x"}), headers={"content-type": content_type})
    assert r.status_code == 415, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"field": "header.content-type", "reason": r.json()["errors"][0]["reason"]}]
    assert content_type in r.json()["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"],
)
def test_a_json_route_takes_json_content_types(content_type: str) -> None:
    r = app().post("/items", content=json.dumps({"title": "x"}), headers={"content-type": content_type})
    assert r.status_code == 200, r.text


def test_a_route_reading_its_raw_body_takes_any_content_type() -> None:
    r = app().post("/raw", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"})
    assert r.json() == {"bytes": 8}


def test_a_json_body_that_is_not_utf8_is_a_422_naming_the_body() -> None:
    """Not 400: no operation documents one; a body the route cannot read is invalid input like any other."""
    for body in (b'{"title": "caf\xe9"}', b"\xff\xfe", b"\x80"):
        r = app().post("/items", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["body"], r.json()


class Nested(ApiModel):
    tags: list[str] = []
    attributes: dict[str, object] = {}
    inner: Body | None = None


def nested_app() -> TestClient:
    api = FastAPI(dependencies=[json_bodies_only(), text_without_nul()])
    install_problem_handlers(api)

    @api.post("/nested")
    async def create(body: Nested) -> dict[str, int]:
        return {"tags": len(body.tags)}

    @api.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return TestClient(api)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tags": ["ok", "a\u0000b"]}, "tags.1"),
        ({"attributes": {"k": ["x", {"deep": "\u0000"}]}}, "attributes.k.1.deep"),
        ({"attributes": {"a\u0000": 1}}, "attributes.a\u0000"),
        ({"inner": {"title": "\u0000"}}, "inner.title"),
    ],
)
def test_a_nul_character_anywhere_in_a_json_body_is_a_422_naming_where(body: dict[str, Any], field: str) -> None:
    """PostgreSQL cannot store U+0000 in text: it is refused as input (it was a 500 on writing)."""
    r = nested_app().post("/nested", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_text_that_only_spells_the_escape_and_answers_holding_one_pass() -> None:
    r = nested_app().post("/nested", json={"tags": ["\\u0000 is how JSON writes it"]})
    assert r.status_code == 200, r.text
    assert Nested.model_validate({"tags": ["\x00"]}).tags == ["\x00"]  # stored data still reads back


def test_a_nul_byte_in_a_raw_body_is_a_422_naming_the_body() -> None:
    r = nested_app().post("/raw", content=b"a,b\n\x00,2\n", headers={"content-type": "text/csv"})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body"]


def test_a_nul_character_in_a_json_body_is_a_422_naming_the_field() -> None:
    r = app().post("/items", content=b'{"title": "a\\u0000b"}', headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["title"]


@pytest.mark.parametrize("escape", [b"\\ud800", b"\\uDFFF", b"x\\udc00y"])
def test_a_lone_surrogate_in_a_json_body_is_a_422_naming_the_field(escape: bytes) -> None:
    """JSON may spell half of a UTF-16 pair alone; no database encoding can store it (a 500 on writing)."""
    r = app().post("/items", content=b'{"title": "' + escape + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["title"]
    assert "surrogate" in r.json()["errors"][0]["reason"]
    paired = app().post("/items", content=b'{"title": "\\ud83d\\ude00"}', headers={"content-type": "application/json"})
    assert paired.status_code != 422, "a whole pair is one character (an emoji), and is fine"


@pytest.mark.parametrize(("url", "field"), [("/items/x?q=a%00b", "q"), ("/items/a%00b", "name")])
def test_a_nul_character_in_a_parameter_is_a_422_naming_it(url: str, field: str) -> None:
    r = app().get(url)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert app().get("/items/x?q=ab").json() == {"name": "x", "q": "ab"}
