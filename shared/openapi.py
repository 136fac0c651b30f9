"""What the OpenAPI documents say about the shared conventions: every status an operation can
answer besides its success, derived from what its route takes, so a document neither misses a
status the conventions answer nor claims one they cannot.

| the route | may answer |
|---|---|
| depends on an authenticating dependency (`shared.auth.authenticating`) | 401, 403 |
| names a record in its path | 404 |
| writes (any method but GET, HEAD, OPTIONS) | 409, 422 (a business rule), 429 with `Retry-After` |
| takes If-Match | 412; 428 too where it is required |
| takes a body | 413, 422; 415 where the body is a JSON model (`shared.http.json_bodies_only`) |
| takes parameters | 422 |

Every such answer is `application/problem+json` (`shared.http.ProblemDetail`). A status a route
answers beyond these (a 503 of its own) is declared on the route and kept; a problem status declared
without content gets the problem content. The optional `Idempotency-Key` header is added to every
create (a POST answering 201) when the app mounts shared.idempotent_creates.
"""

from __future__ import annotations

import copy
import http
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from shared import idempotent_creates as creates
from shared import ratelimit
from shared.auth import authenticates
from shared.deps import IF_MATCH_REQUIRED
from shared.http import PROBLEM_CONTENT_TYPE, ProblemDetail
from shared.idempotency import HEADER as IDEMPOTENCY_KEY

PROBLEM_REF = "#/components/schemas/ProblemDetail"
FRAMEWORK_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
"""What the framework documents for its own 422 (a body these apps never send: they answer problem details)."""


@dataclass(frozen=True)
class RouteFacts:
    """What the OpenAPI document cannot say by itself about a route."""

    authenticates: bool
    json_body: bool


def route_facts(routes: Iterable[BaseRoute]) -> dict[tuple[str, str], RouteFacts]:
    """(path, lower-case method) -> facts, for every API route."""
    facts: dict[tuple[str, str], RouteFacts] = {}
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        fact = RouteFacts(
            authenticates=any(authenticates(call) for call in _calls(route.dependant)),
            json_body=route.body_field is not None,
        )
        for method in route.methods or ():
            facts[(route.path_format, method.lower())] = fact
    return facts


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or http.HTTPStatus(status).phrase,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


def problem_statuses(path: str, method: str, operation: dict[str, Any], facts: RouteFacts | None) -> set[int]:
    """The statuses the shared conventions may answer on this operation (see the module's table)."""
    statuses: set[int] = set()
    if facts is not None and facts.authenticates:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if method.upper() not in ratelimit.SAFE_METHODS:
        statuses |= {409, 422}
    if_match = _header(operation, "If-Match")
    if if_match is not None:
        statuses.add(412)
        if if_match.get("description") == IF_MATCH_REQUIRED:
            statuses.add(428)
    if "requestBody" in operation:
        statuses |= {413, 422}
    if facts is not None and facts.json_body:
        statuses.add(415)
    if operation.get("parameters"):
        statuses.add(422)
    return statuses


def _header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next(
        (p for p in operation.get("parameters", []) if p.get("in") == "header" and p["name"].lower() == name.lower()),
        None,
    )


def document_conventions(
    document: dict[str, Any], routes: Iterable[BaseRoute] = (), *, idempotent_creates: bool = False
) -> dict[str, Any]:
    """Idempotent: the framework caches the document and hands the same one back."""
    facts = route_facts(routes)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            _drop_framework_validation_error(responses)
            for code in sorted(problem_statuses(path, method, operation, facts.get((path, method)))):
                responses.setdefault(str(code), problem_response(code))
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400 and "content" not in response:
                    response["content"] = copy.deepcopy(problem_response(int(status))["content"])
            if method.upper() not in ratelimit.SAFE_METHODS:
                responses.setdefault("429", ratelimit.document_response())
            declared = _header(operation, IDEMPOTENCY_KEY)
            if declared is not None:  # a route that claims the key itself documents it as the mechanism does
                operation["parameters"][operation["parameters"].index(declared)] = creates.document_parameter()
            elif idempotent_creates and method == "post" and "201" in responses:
                operation.setdefault("parameters", []).append(creates.document_parameter())
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ProblemDetail", ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}"))
    if not _refers_to(document["paths"], FRAMEWORK_VALIDATION_SCHEMAS):
        for name in FRAMEWORK_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
    return document


def _drop_framework_validation_error(responses: dict[str, Any]) -> None:
    schema = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref") == "#/components/schemas/HTTPValidationError":
        del responses["422"]


def _refers_to(paths: dict[str, Any], names: Iterable[str]) -> bool:
    text = repr(paths)
    return any(f"#/components/schemas/{name}'" in text for name in names)
