"""shared.openapi: the problem statuses an operation documents, from what its route takes (no I/O)."""

from __future__ import annotations

from typing import Any

from shared.auth import authenticates, current_principal
from shared.authorization import Policy
from shared.deps import IF_MATCH_OPTIONAL, IF_MATCH_REQUIRED
from shared.openapi import RouteFacts, document_conventions, problem_statuses

AUTHENTICATED_JSON = RouteFacts(authenticates=True, json_body=True)
AUTHENTICATED = RouteFacts(authenticates=True, json_body=False)


def if_match(description: str) -> dict[str, Any]:
    return {"in": "header", "name": "If-Match", "schema": {"type": "string"}, "description": description}


def test_a_read_by_id_answers_what_its_path_and_token_can_cause() -> None:
    operation = {"parameters": [{"in": "path", "name": "id"}], "responses": {}}
    assert problem_statuses("/things/{id}", "get", operation, AUTHENTICATED) == {401, 403, 404, 422}


def test_a_health_check_answers_no_problem() -> None:
    assert problem_statuses("/healthz", "get", {"responses": {}}, RouteFacts(False, False)) == set()


def test_a_json_write_with_a_required_if_match_answers_every_refusal_of_its_inputs() -> None:
    operation = {"parameters": [if_match(IF_MATCH_REQUIRED)], "requestBody": {}, "responses": {}}
    statuses = problem_statuses("/things/{id}", "patch", operation, AUTHENTICATED_JSON)
    assert statuses == {401, 403, 404, 409, 412, 413, 415, 422, 428}


def test_an_optional_if_match_answers_412_not_428_and_a_raw_body_no_415() -> None:
    operation = {"parameters": [if_match(IF_MATCH_OPTIONAL)], "requestBody": {}, "responses": {}}
    assert problem_statuses("/things", "post", operation, AUTHENTICATED) == {401, 403, 409, 412, 413, 422}


def test_the_documented_answers_are_problem_details_and_a_declared_status_gets_their_content() -> None:
    document: dict[str, Any] = {
        "paths": {"/things": {"post": {"responses": {"201": {}, "503": {"description": "Busy"}}}}},
    }
    document_conventions(document)
    responses = document["paths"]["/things"]["post"]["responses"]
    assert sorted(responses) == ["201", "409", "422", "429", "503"]
    assert responses["503"]["description"] == "Busy"
    assert responses["503"]["content"] == responses["409"]["content"]
    assert responses["409"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
    }
    assert "ProblemDetail" in document["components"]["schemas"]
    assert document_conventions(document) == document  # the framework hands the same document back


def test_the_authenticating_dependencies_are_known_and_others_are_not() -> None:
    assert authenticates(current_principal)
    assert authenticates(Policy("x", {}, []).enforce)  # the table every router runs
    assert not authenticates(print)  # takes no weak reference
    assert not authenticates(lambda: None)
