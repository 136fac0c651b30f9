"""Bad input on every endpoint of the incident record: a 422 problem naming the field, and
nothing stored (no row, no outbox event)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import (
    idempotency_key,
    incident,
    incident_history,
    incident_note,
    incident_review,
    outbox,
)
from tests.conftest import running
from tests.infra import row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/incidents"
TABLES = (incident, incident_history, incident_note, incident_review, outbox, idempotency_key)


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture(scope="module")
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, incident_db))) as client:
        yield client


@pytest.fixture(scope="module")
async def major_incident(client: httpx.AsyncClient, token: Callable[..., str]) -> str:
    headers = {"Authorization": f"Bearer {token('admin')}"}
    created = await client.post(URL, json={"title": "t", "caller": "c", "impact": 1, "urgency": 1}, headers=headers)
    r = await client.post(f"{URL}/{created.json()['id']}/major", json={"manager": "mia"}, headers=headers)
    assert r.status_code == 200, r.text
    return str(created.json()["id"])


CREATE = {"title": "t", "caller": "c", "impact": 2, "urgency": 2}
REVIEW = {"summary": "s", "root_cause": "r", "lessons": "l", "actions": ["a"]}

CASES: list[tuple[str, str, str, Any, dict[str, str], str]] = [
    # (id, method, path after /incidents/{id} or "" for the collection, body, headers, field)
    ("create: no impact nor CI", "POST", "", {**CREATE, "impact": None}, {}, "impact"),
    ("create: subcategory alone", "POST", "", {**CREATE, "subcategory": "vpn"}, {}, "subcategory"),
    ("create: category too long", "POST", "", {**CREATE, "category": "x" * 101}, {}, "category"),
    ("create: service not a uuid", "POST", "", {**CREATE, "service_id": "payroll"}, {}, "service_id"),
    ("create: channel unknown", "POST", "", {**CREATE, "channel": "pigeon"}, {}, "channel"),
    ("create: unknown field", "POST", "", {**CREATE, "severity": 1}, {}, "severity"),
    ("create: key with a space", "POST", "", CREATE, {"Idempotency-Key": "a b"}, "Idempotency-Key"),
    ("patch: impact out of range", "PATCH", "/{id}", {"impact": 4}, {"If-Match": 'W/"2"'}, "impact"),
    ("patch: title null", "PATCH", "/{id}", {"title": None}, {"If-Match": 'W/"2"'}, "title"),
    ("patch: nothing to change", "PATCH", "/{id}", {"reason": "x"}, {"If-Match": 'W/"2"'}, "body"),
    ("patch: status is an action", "PATCH", "/{id}", {"status": "closed"}, {"If-Match": 'W/"2"'}, "status"),
    ("patch: subcategory alone", "PATCH", "/{id}", {"subcategory": "vpn"}, {"If-Match": 'W/"2"'}, "subcategory"),
    ("priority: out of range", "POST", "/{id}/priority", {"priority": 7, "reason": "x"}, {}, "priority"),
    ("priority: no reason", "POST", "/{id}/priority", {"priority": 2}, {}, "reason"),
    ("priority: blank reason", "POST", "/{id}/priority", {"priority": 2, "reason": "  "}, {}, "reason"),
    ("escalate: unknown kind", "POST", "/{id}/escalate", {"kind": "sideways"}, {}, "kind"),
    ("escalate: functional without group", "POST", "/{id}/escalate", {"kind": "functional"}, {}, "to_group"),
    ("escalate: hierarchical nobody", "POST", "/{id}/escalate", {"kind": "hierarchical"}, {}, "notify"),
    ("escalate: notify blank", "POST", "/{id}/escalate", {"kind": "hierarchical", "notify": [""]}, {}, "notify.0"),
    ("major: no manager", "POST", "/{id}/major", {"manager": ""}, {}, "manager"),
    ("major update: no text", "POST", "/{id}/major/updates", {"text": ""}, {}, "text"),
    ("major update: visibility", "POST", "/{id}/major/updates", {"text": "x", "visibility": "all"}, {}, "visibility"),
    ("review: no actions", "PUT", "/{id}/review", {**REVIEW, "actions": []}, {}, "actions"),
    ("review: no summary", "PUT", "/{id}/review", {k: v for k, v in REVIEW.items() if k != "summary"}, {}, "summary"),
    ("review: blank action", "PUT", "/{id}/review", {**REVIEW, "actions": [" "]}, {}, "actions.0"),
    ("note: visibility unknown", "POST", "/{id}/notes", {"text": "x", "visibility": "public"}, {}, "visibility"),
    ("note: blank text", "POST", "/{id}/notes", {"text": "   ", "visibility": "internal"}, {}, "text"),
    (
        "assign: supplier not a uuid",
        "POST",
        "/{id}/assign",
        {"assignment_group": "g", "supplier_id": "acme"},
        {},
        "supplier_id",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "extra", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient,
    token: Callable[..., str],
    incident_db: str,
    major_incident: str,
    method: str,
    path: str,
    body: Any,
    extra: dict[str, str],
    field: str,
) -> None:
    headers = {"Authorization": f"Bearer {token('admin')}", **extra}
    before = await row_counts(incident_db, *TABLES)
    r = await client.request(method, URL + path.format(id=major_incident), json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await row_counts(incident_db, *TABLES) == before


@pytest.mark.parametrize(
    ("params", "field"),
    [({"service_id": "payroll"}, "service_id"), ({"category": "x" * 101}, "category"), ({"major": "maybe"}, "major")],
)
async def test_bad_list_filters_are_a_422_naming_the_parameter(
    client: httpx.AsyncClient, token: Callable[..., str], params: dict[str, str], field: str
) -> None:
    r = await client.get(URL, params=params, headers={"Authorization": f"Bearer {token('agent')}"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field
