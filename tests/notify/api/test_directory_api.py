"""The directory notify owns (people: address, groups, roles, suppliers, customers, locale, time
zone) and rules naming recipients by kind, through the API; bad input is a problem naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]
PEOPLE = "/api/v1/notifications/directory"
RULES = "/api/v1/notifications/rules"


async def test_put_read_list_and_delete_a_person(client: httpx.AsyncClient, auth: Auth) -> None:
    name = f"ada{uuid.uuid4().hex[:8]}"
    body = {
        "name": "Ada L.",
        "address": "ada@corp.test",
        "groups": ["network"],
        "roles": ["cab"],
        "suppliers": [str(uuid.uuid4())],
        "customers": ["ACME"],
        "locale": "de",
        "time_zone": "Europe/Berlin",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "digest": "daily",
    }
    r = await client.put(f"{PEOPLE}/{name}", json=body, headers=auth("admin"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got.pop("updated_at") and got == body | {"username": name, "updated_by": "tester"}
    again = await client.put(f"{PEOPLE}/{name}", json=body | {"roles": []}, headers=auth("admin"))
    assert again.json()["roles"] == [], "a put replaces the person"
    read = await client.get(f"{PEOPLE}/{name}", headers=auth("auditor"))
    assert read.status_code == 200 and read.json()["address"] == "ada@corp.test"
    listed = await client.get(PEOPLE, params={"limit": 200}, headers=auth("auditor"))
    assert name in [p["username"] for p in listed.json()["items"]]
    assert (await client.delete(f"{PEOPLE}/{name}", headers=auth("admin"))).status_code == 204
    assert (await client.get(f"{PEOPLE}/{name}", headers=auth("admin"))).status_code == 404
    assert (await client.delete(f"{PEOPLE}/{name}", headers=auth("admin"))).status_code == 404


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"address": "not an address"}, "address"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"locale": "english"}, "locale"),
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_start"),
        ({"groups": ["two words"]}, "groups"),
        ({"roles": ["r"] * 51}, "roles"),
        ({"digest": "monthly"}, "digest"),
    ],
)
async def test_a_bad_person_is_a_problem_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, bad: dict[str, object], field: str
) -> None:
    r = await client.put(f"{PEOPLE}/bob", json={"address": "bob@corp.test"} | bad, headers=auth("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.text


async def test_a_bad_user_name_is_refused(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.put(f"{PEOPLE}/{'x' * 65}", json={"address": "x@corp.test"}, headers=auth("admin"))
    assert r.status_code == 422


async def test_a_rule_names_recipients_by_kind(client: httpx.AsyncClient, auth: Auth) -> None:
    body = {
        "name": f"cab {uuid.uuid4()}",
        "event_pattern": "change.assessed.v1",
        "template": "change_vote_needed",
        "recipients": [{"kind": "cab"}, {"kind": "group", "value": "data.assignment_group"}],
        "mandatory": True,
    }
    r = await client.post(RULES, json=body, headers=auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["recipients"] == [{"kind": "cab", "value": ""}, {"kind": "group", "value": "data.assignment_group"}]
    assert r.json()["mandatory"] is True and r.json()["recipient_fields"] == []
    for bad, field in (
        ({"recipients": [{"kind": "team", "value": "x"}]}, "kind"),
        ({"recipients": [{"kind": "address", "value": "nope"}]}, "recipients"),
        ({"recipients": []}, "recipient_fields"),
    ):
        answer = await client.post(RULES, json=body | bad | {"name": f"n {uuid.uuid4()}"}, headers=auth("admin"))
        assert answer.status_code == 422, (bad, answer.text)
        assert field in answer.text


async def test_the_seeded_defaults_name_their_recipients(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get(RULES, params={"limit": 200}, headers=auth("auditor"))
    seeded = {i["event_pattern"]: i for i in r.json()["items"] if i["created_by"] == "system"}
    assert seeded["change.assessed.v1"]["recipients"] == [{"kind": "cab", "value": ""}]
    assert seeded["change.assessed.v1"]["mandatory"] is True
    assert seeded["sla.breached.v1"]["recipients"] == [{"kind": "group", "value": "data.assignment_group"}]
    assert seeded["incident.created.v1"]["mandatory"] is False
