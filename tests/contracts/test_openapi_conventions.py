"""What every service's OpenAPI document says about the shared HTTP conventions: the If-Match
header is a string (optional or required, never null), a route answering 412 or 428 documents it,
and readiness documents its 503."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

SERVICES = ["incident", "change", "config", "supplier", "reporting", "notify"]
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(service: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    document = importlib.import_module(f"services.{service}.app").create_app().openapi()
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _if_match(operation: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"].lower() == "if-match"), None
    )


@pytest.mark.parametrize("service", SERVICES)
def test_if_match_is_a_string_and_its_statuses_are_documented(service: str) -> None:
    for path, method, operation in _operations(service):
        header = _if_match(operation)
        if header is None:
            continue
        where = f"{service} {method.upper()} {path}"
        assert header["schema"].get("type") == "string" and "anyOf" not in header["schema"], where
        assert "412" in operation["responses"], where
        if header.get("required") or "required" in header.get("description", ""):
            assert "428" in operation["responses"], where


@pytest.mark.parametrize(
    ("service", "method", "path", "documents_428"),
    [
        ("config", "patch", "/api/v1/cis/{ci_id}", True),
        ("supplier", "patch", "/api/v1/suppliers/{supplier_id}", True),
        ("supplier", "patch", "/api/v1/contracts/{contract_id}", True),
        ("supplier", "post", "/api/v1/contracts/{contract_id}/activate", False),
        ("change", "post", "/api/v1/changes/{change_id}/submit", False),
    ],
)
def test_428_is_documented_where_if_match_is_required(
    service: str, method: str, path: str, documents_428: bool
) -> None:
    operation = next(op for p, m, op in _operations(service) if (p, m) == (path, method))
    assert ("428" in operation["responses"]) is documents_428


@pytest.mark.parametrize("service", SERVICES)
def test_readiness_documents_its_503(service: str) -> None:
    operation = next(op for p, m, op in _operations(service) if (p, m) == ("/readyz", "get"))
    assert "503" in operation["responses"]


def _header(operation: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"].lower() == name.lower()]


@pytest.mark.parametrize("service", SERVICES)
def test_every_create_documents_its_optional_idempotency_key(service: str) -> None:
    """shared.idempotent_creates takes the header on every POST of every service; a 201 is replayed."""
    creates = 0
    for path, method, operation in _operations(service):
        where = f"{service} {method.upper()} {path}"
        headers = _header(operation, "Idempotency-Key")
        if method != "post" or "201" not in operation["responses"]:
            assert headers == [], where
            continue
        creates += 1
        assert len(headers) == 1, where
        (header,) = headers
        assert not header.get("required"), where
        schema = header["schema"]
        assert schema.get("type") == "string", f"{where}: an optional header is a string, absent or not, never null"
        assert (schema.get("minLength"), schema.get("maxLength")) == (1, 200), where
        assert schema.get("pattern") == r"^[\x21-\x7e]+$", where
        assert "same key" in header["description"], where
    assert creates > 0, service


@pytest.mark.parametrize("service", SERVICES)
def test_every_write_documents_its_429_with_retry_after(service: str) -> None:
    """shared.ratelimit: any write may answer 429 with `Retry-After` when the write rate limit is set."""
    for path, method, operation in _operations(service):
        where = f"{service} {method.upper()} {path}"
        response = operation["responses"].get("429")
        if method == "get":
            assert response is None or "Retry-After" not in response.get("headers", {}), where
            continue
        assert response is not None, where
        assert "application/problem+json" in response["content"], where
        assert response["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}, where


def _problem_statuses(operation: dict[str, Any]) -> set[int]:
    return {int(s) for s, r in operation["responses"].items() if s.isdigit() and int(s) >= 400}


@pytest.mark.parametrize("service", SERVICES)
def test_statuses_are_documented_only_where_the_route_can_answer_them(service: str) -> None:
    """shared.openapi: 404 where a path names a record, 412 where If-Match is taken, 415 where a JSON
    body is, 401 and 403 where the caller is authenticated; and not elsewhere."""
    for path, method, operation in _operations(service):
        where = f"{service} {method.upper()} {path}"
        statuses = _problem_statuses(operation)
        body_types = set(operation.get("requestBody", {}).get("content", {}))
        assert (404 in statuses) == ("{" in path), where
        assert (412 in statuses) == (_if_match(operation) is not None), where
        if 415 in statuses:
            assert "application/json" in body_types, where
        if "requestBody" in operation:
            assert {413, 422} <= statuses, where
        if method != "get":
            assert {409, 422, 429} <= statuses, where
        assert 400 not in statuses, where
        if path.startswith("/api/"):
            assert {401, 403} <= statuses, where
        else:
            assert not statuses & {401, 403, 409, 412, 415, 428}, where


@pytest.mark.parametrize("service", SERVICES)
def test_every_problem_answer_is_documented_as_problem_details(service: str) -> None:
    """Problem details are served as application/problem+json: the document says so, with their schema."""
    for path, method, operation in _operations(service):
        where = f"{service} {method.upper()} {path}"
        for status, response in operation["responses"].items():
            if not status.isdigit() or int(status) < 400 or (path, status) == ("/readyz", "503"):
                continue
            assert list(response["content"]) == ["application/problem+json"], f"{where} {status}"
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ProblemDetail"}, f"{where} {status}"
