"""The change lifecycle through the API: actions, 409 with the allowed actions, separation of
duties as 403 problem+json, the CAB quorum, and the events each step publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import outbox
from tests.conftest import running
from tests.infra import outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def change_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("change"))


@pytest.fixture
async def client(change_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ChangeSettings, change_db))) as client:
        yield client


async def _new(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], **body: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(hours=1)
    payload = {
        "title": "Upgrade the load balancers",
        "justification": "end of support",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(),
        **body,
    }
    r = await client.post("/api/v1/changes", json=payload, headers=auth("requester", subject="rita"))
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def _do(
    client: httpx.AsyncClient, change: dict[str, Any], action: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    return await client.post(f"/api/v1/changes/{change['id']}/{action}", json=body, headers=headers)


async def test_a_change_goes_from_draft_to_closed_and_publishes_each_step(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], change_db: str
) -> None:
    change = await _new(client, auth)
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    assert change["allowed_actions"] == ["submit", "cancel"]
    assert (await _do(client, change, "submit", rita)).json()["status"] == "submitted"
    assert (await _do(client, change, "assess", mike, {"risk": "medium"})).json()["risk"] == "medium"
    approved = (await _do(client, change, "approve", mike, {"comment": "go"})).json()
    assert approved["status"] == "approved"
    assert approved["votes"][0]["voter"] == "mike"
    for action, body in [("schedule", None), ("start", None), ("complete", None), ("review", {"outcome": "ok"})]:
        r = await _do(client, change, action, mike, body)
        assert r.status_code == 200, r.text
    closed = (await _do(client, change, "close", mike)).json()
    assert closed["status"] == "closed"
    assert closed["allowed_actions"] == []
    types = [e.type for e in await outbox_events(change_db, outbox, change["id"])]
    assert types == [
        f"itsm.change.{s}.v1"
        for s in (
            "created",
            "submitted",
            "assessed",
            "approved",
            "scheduled",
            "implementing",
            "implemented",
            "reviewed",
            "closed",
        )
    ]


async def test_a_forbidden_step_is_409_with_the_allowed_actions(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    change = await _new(client, auth)
    r = await _do(client, change, "start", auth("change_manager", subject="mike"))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["allowed_actions"] == ["cancel", "submit"]
    assert r.json()["state"] == "draft"


async def test_self_approval_is_a_403_problem_and_changes_nothing(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    change = await _new(client, auth)
    both = auth("requester", "change_manager", subject="rita")
    await _do(client, change, "submit", both)
    await _do(client, change, "assess", auth("change_manager", subject="mike"), {"risk": "low"})
    r = await _do(client, change, "approve", both)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "own change" in r.json()["detail"]
    after = (await client.get(f"/api/v1/changes/{change['id']}", headers=both)).json()
    assert after["status"] == "assessed"
    assert after["votes"] == []
    r = await _do(client, change, "approve", auth("requester", subject="ron"))
    assert r.status_code == 403  # the role gate before the domain's


async def test_a_high_risk_change_waits_for_the_cab_quorum(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    change = await _new(client, auth)
    await _do(client, change, "submit", auth("requester", subject="rita"))
    await _do(client, change, "assess", auth("change_manager", subject="mike"), {"risk": "high"})
    first = await _do(client, change, "approve", auth("cab_member", subject="carl"), {"comment": "yes"})
    assert first.json()["status"] == "assessed"
    assert (await _do(client, change, "approve", auth("cab_member", subject="carl"))).status_code == 409
    second = await _do(client, change, "approve", auth("cab_member", subject="cleo"))
    assert second.json()["status"] == "approved"
    assert [v["voter"] for v in second.json()["votes"]] == ["carl", "cleo"]


async def test_a_stale_if_match_is_412(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    change = await _new(client, auth)
    r = await _do(client, change, "submit", {**auth("requester", subject="rita"), "If-Match": 'W/"9"'})
    assert r.status_code == 412
