"""`itsm demo` waits while a service has not learned config's CIs yet (its CI read model is filled
from config's events a moment after the CI was created), and only then; and sends a write again
that collided with the service's own update of the record."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from itsm.demo.client import Api, Refused, unknown_ci

SECRET = "demo-test-secret-0123456789abcdef01234"
SPEC = {"paths": {"/api/v1/contracts": {"post": {}}}}


def _problem(status: int, slug: str, field: str) -> dict[str, Any]:
    return {
        "type": f"https://itsm.example/problems/{slug}",
        "status": status,
        "detail": "no",
        "errors": [{"field": field, "reason": "unknown configuration item(s): 7"}],
    }


def test_only_a_rule_about_a_ci_or_service_field_is_worth_waiting_for() -> None:
    assert unknown_ci(_problem(422, "rule-violation", "ci_ids"))
    assert unknown_ci(_problem(422, "rule-violation", "changes.service_ids"))
    assert unknown_ci(_problem(422, "rule-violation", "ci_id"))
    assert not unknown_ci(_problem(422, "validation", "body.ci_id"))  # malformed: waiting cures nothing
    assert not unknown_ci(_problem(422, "rule-violation", "owner"))
    assert not unknown_ci({"detail": "plain"})


async def _answering(refusals: int, problem: dict[str, Any]) -> tuple[Api, list[int]]:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/openapi.json":
            return httpx.Response(200, json=SPEC)
        seen.append(1)
        if len(seen) <= refusals:
            headers = {"content-type": "application/problem+json"}
            return httpx.Response(422, content=json.dumps(problem), headers=headers)
        return httpx.Response(201, json={"id": "c1"})

    mounts: dict[str, httpx.AsyncBaseTransport] = {"http://supplier": httpx.MockTransport(handler)}
    api = Api(urls={"supplier": "http://supplier"}, secret=SECRET, mounts=mounts)
    return api, seen


async def test_a_create_refused_for_a_ci_not_known_yet_is_retried_until_it_is() -> None:
    api, seen = await _answering(3, _problem(422, "rule-violation", "ci_ids"))
    async with api:
        assert await api.discover("supplier")
        created = await api.call("supplier", "POST", "/api/v1/contracts", person="pat", body={"ci_ids": ["7"]})
    assert created == {"id": "c1"}
    assert len(seen) == 4


async def test_other_refusals_and_a_ci_that_never_comes_are_not_waited_for_forever() -> None:
    api, seen = await _answering(100, _problem(422, "rule-violation", "owner"))
    async with api:
        await api.discover("supplier")
        with pytest.raises(Refused):
            await api.call("supplier", "POST", "/api/v1/contracts", person="pat", body={})
    assert len(seen) == 1

    api, seen = await _answering(100, _problem(422, "rule-violation", "ci_ids"))
    api.ci_wait_s = 0.6
    async with api:
        await api.discover("supplier")
        with pytest.raises(Refused):
            await api.call("supplier", "POST", "/api/v1/contracts", person="pat", body={"ci_ids": ["7"]})
    assert 1 < len(seen) < 100


async def test_a_write_that_collided_with_the_services_own_update_is_sent_again() -> None:
    collided = {"type": "https://itsm.example/problems/precondition-failed", "status": 412, "detail": "meanwhile"}
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/openapi.json":
            return httpx.Response(200, json=SPEC)
        seen.append(1)
        return httpx.Response(412, json=collided) if len(seen) == 1 else httpx.Response(201, json={"id": "c1"})

    mounts: dict[str, httpx.AsyncBaseTransport] = {"http://supplier": httpx.MockTransport(handler)}
    async with Api(urls={"supplier": "http://supplier"}, secret=SECRET, mounts=mounts) as api:
        await api.discover("supplier")
        assert await api.call("supplier", "POST", "/api/v1/contracts", person="pat", body={}) == {"id": "c1"}
    assert len(seen) == 2
