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
    ann = auth("change_manager", subject="ann")  # whoever sets the risk is not its only approver
    assert (await _do(client, change, "assess", ann, {"risk": "medium"})).json()["risk"] == "medium"
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


async def test_a_standard_change_without_a_template_does_not_approve_on_submit(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], change_db: str
) -> None:
    change = await _new(client, auth, type="standard")
    rita, mike, cab = (
        auth("requester", subject="rita"),
        auth("change_manager", subject="mike"),
        auth("cab_member", subject="carl"),
    )
    submitted = await _do(client, change, "submit", rita)
    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["status"], submitted.json()["votes"]) == ("submitted", [])
    assert submitted.json()["allowed_actions"] == ["assess", "cancel"]
    types = [e.type for e in await outbox_events(change_db, outbox, change["id"])]
    assert types == ["itsm.change.created.v1", "itsm.change.submitted.v1"]
    # The normal path: assessed, and at high risk decided by the CAB, not by one change manager.
    assert (await _do(client, change, "assess", mike, {"risk": "high"})).status_code == 200
    assert (await _do(client, change, "approve", mike, {"comment": "go"})).status_code == 403
    assert (await _do(client, change, "approve", cab, {"comment": "go"})).json()["status"] == "assessed"


async def test_whoever_set_the_risk_is_not_the_only_approver(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], change_db: str
) -> None:
    change = await _new(client, auth)
    rita, mike, nina = (
        auth("requester", subject="rita"),
        auth("change_manager", subject="mike"),
        auth("change_manager", subject="nina"),
    )
    await _do(client, change, "submit", rita)
    assessed = (await _do(client, change, "assess", mike, {"risk": "low"})).json()
    assert (assessed["requester"], assessed["assessed_by"], assessed["risk_set_by"]) == ("rita", "mike", "mike")
    refused = await _do(client, change, "approve", mike, {"comment": "mine"})
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/api/v1/changes/{change['id']}", headers=mike)).json()["status"] == "assessed"
    approved = await _do(client, change, "approve", nina, {"comment": "go"})
    assert approved.status_code == 200, approved.text
    assert [v["voter"] for v in approved.json()["votes"]] == ["nina"]


async def test_the_requester_assessor_and_approvers_are_in_the_changes_events(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], change_db: str
) -> None:
    change = await _new(client, auth)
    rita, ann = auth("requester", subject="rita"), auth("change_manager", subject="ann")
    carl, dora = auth("cab_member", subject="carl"), auth("cab_member", subject="dora")
    await _do(client, change, "submit", rita)
    await _do(client, change, "assess", ann, {"risk": "high"})
    await _do(client, change, "approve", carl, {"comment": "go"})
    assert (await _do(client, change, "approve", dora, {"comment": "go"})).json()["status"] == "approved"
    assert (await _do(client, change, "schedule", ann)).status_code == 200
    events = {e.type: e.data for e in await outbox_events(change_db, outbox, change["id"])}
    assert events["itsm.change.submitted.v1"]["requested_by"] == "rita"
    assessed = events["itsm.change.assessed.v1"]
    assert (assessed["requested_by"], assessed["assessed_by"], assessed["approved_by"]) == ("rita", "ann", [])
    approved = events["itsm.change.approved.v1"]
    assert (approved["requested_by"], approved["assessed_by"], approved["approved_by"]) == (
        "rita",
        "ann",
        ["carl", "dora"],
    )
    scheduled = events["itsm.change.scheduled.v1"]
    assert (scheduled["assessed_by"], scheduled["approved_by"]) == ("ann", ["carl", "dora"])


async def test_a_requester_acts_only_on_their_own_change_and_anothers_is_404_before_any_state_check(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """Submit, cancel and the design record on someone else's change were all accepted: a
    requester now meets another's change exactly as one that does not exist, and it is untouched."""
    change = await _new(client, auth)  # rita's
    ron = auth("requester", subject="ron")
    design = {"requirements": "r", "acceptance_criteria": ["a"], "service_level_targets": [], "capacity": "c"}
    missing = f"change {change['id']} does not exist"
    for answer in (
        await _do(client, change, "submit", ron),
        await _do(client, change, "cancel", ron),
        await client.put(f"/api/v1/changes/{change['id']}/design", json=design, headers=ron),
        await client.get(f"/api/v1/changes/{change['id']}", headers=ron),
    ):
        assert (answer.status_code, answer.json()["detail"]) == (404, missing)
    listed = (await client.get("/api/v1/changes", params={"limit": 200}, headers=ron)).json()["items"]
    assert change["id"] not in [c["id"] for c in listed]
    after = (await client.get(f"/api/v1/changes/{change['id']}", headers=auth("auditor"))).json()
    assert (after["status"], after["version"], after["design_missing"]) == ("draft", 1, change["design_missing"])
    rita = auth("requester", subject="rita")
    assert (await _do(client, change, "submit", rita)).json()["status"] == "submitted"
    mine = (await client.get("/api/v1/changes", params={"limit": 200}, headers=rita)).json()["items"]
    assert change["id"] in [c["id"] for c in mine] and {c["requester"] for c in mine} == {"rita"}
