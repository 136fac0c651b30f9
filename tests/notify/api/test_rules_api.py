"""Notification rules through the API: the seeded defaults, create (409 on a name in use, 422 on a
bad pattern, field or template), delete; and the e-mail delivery log's list."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]
RULES = "/api/v1/notifications/rules"


async def test_the_defaults_are_seeded(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get(RULES, params={"limit": 200}, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    seeded = {i["event_pattern"]: i for i in r.json()["items"] if i["created_by"] == "system"}
    assert seeded["incident.resolved.v1"]["recipient_fields"] == ["data.caller"]
    assert seeded["incident.resolved.v1"]["template"] == "incident_resolved"
    assert seeded["incident.assigned.v1"]["recipient_fields"] == ["data.assignee"]
    assert all(i["enabled"] for i in seeded.values())


async def test_create_refuse_and_delete(client: httpx.AsyncClient, auth: Auth) -> None:
    body = {
        "name": f"p1 resolved {uuid.uuid4()}",
        "event_pattern": "incident.resolved.v1",
        "data_filter": {"priority": 1},
        "template": "incident_resolved",
        "recipient_fields": ["data.caller", "data.assignee"],
    }
    r = await client.post(RULES, json=body, headers=auth("admin"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert r.headers["location"] == f"{RULES}/{made['id']}"
    assert made["data_filter"] == {"priority": 1} and made["enabled"] is True
    assert (await client.post(RULES, json=body, headers=auth("admin"))).status_code == 409
    for bad in (
        {"template": "no_such_template"},
        {"template": "../secrets"},
        {"event_pattern": "incident..v1"},
        {"recipient_fields": ["caller"]},
        {"recipient_fields": []},
        {"recipient_fields": ["data.x"] * 11},
        {"name": "x" * 201},
    ):
        answer = await client.post(
            RULES, json=body | bad | {"name": bad.get("name", f"n {uuid.uuid4()}")}, headers=auth("admin")
        )
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    off = await client.post(f"{RULES}/{made['id']}/disable", headers=auth("admin"))
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert (await client.post(f"{RULES}/{made['id']}/disable", headers=auth("admin"))).json()["enabled"] is False
    listed = {
        r["id"]: r for r in (await client.get(RULES, params={"limit": 200}, headers=auth("admin"))).json()["items"]
    }
    assert listed[made["id"]]["enabled"] is False
    on = await client.post(f"{RULES}/{made['id']}/enable", headers=auth("admin"))
    assert on.status_code == 200 and on.json()["enabled"] is True and on.json()["name"] == made["name"]
    assert (await client.delete(f"{RULES}/{made['id']}", headers=auth("admin"))).status_code == 204
    assert (await client.delete(f"{RULES}/{made['id']}", headers=auth("admin"))).status_code == 404
    assert (await client.post(f"{RULES}/{made['id']}/enable", headers=auth("admin"))).status_code == 404


async def test_the_message_log_lists_and_filters(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get("/api/v1/notifications/messages", params={"status": "sent"}, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"items", "total", "limit", "offset"}
    bad = await client.get("/api/v1/notifications/messages", params={"status": "nope"}, headers=auth("auditor"))
    assert bad.status_code == 422
