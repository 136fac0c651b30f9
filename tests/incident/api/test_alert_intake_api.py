"""The Alertmanager webhook in process, with payloads shaped as Alertmanager sends them (the real
Alertmanager drives it in tests/flows/integration/test_alertmanager_intake.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import ci_read_model, incident, incident_history, monitoring_alert, outbox
from shared.db import create_engine
from shared.events import new_event
from shared.events.config import ConfigItemCreated
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.incident.cis import seed_ci
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/alerts/alertmanager"
TABLES = (incident, incident_history, monitoring_alert, outbox)


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, incident_db))) as client:
        yield client


def alert(status: str, fingerprint: str, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRate", "severity": "warning", **labels},
        "annotations": {"summary": "5xx above 5%", "description": "checkout returns errors"},
        "startsAt": "2026-11-30T09:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else datetime.now(UTC).isoformat(),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate",
        "fingerprint": fingerprint,
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "itsm",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


async def test_firing_opens_one_incident_repeats_count_and_resolved_resolves_it(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    monitoring = auth("monitoring", subject="alertmanager")
    fingerprint = uuid.uuid4().hex[:16]
    service = uuid.uuid4()
    ci = str(await seed_ci(incident_db, service_id=service))
    first = await client.post(
        URL, json=notification(alert("firing", fingerprint, ci_id=ci, impact="1")), headers=monitoring
    )
    assert first.status_code == 200, first.text
    [opened] = first.json()["results"]
    assert (opened["action"], opened["occurrences"]) == ("opened", 1)
    created = (await client.get(f"/api/v1/incidents/{opened['incident_id']}", headers=auth("agent"))).json()
    assert created["title"] == "HighErrorRate: 5xx above 5%"
    assert (created["channel"], created["caller"], created["ci_id"]) == ("monitoring", "alertmanager", ci)
    assert created["service_id"] == str(service)  # from the CI in the read model
    assert (created["impact"], created["urgency"], created["priority"]) == (1, 2, 2)  # severity warning -> urgency 2
    events = await outbox_events(incident_db, outbox, opened["incident_id"])
    [opened_event] = [e for e in events if e.type == "itsm.incident.created.v1"]
    assert opened_event.data["channel"] == "monitoring"

    again = (
        await client.post(URL, json=notification(alert("firing", fingerprint, ci_id=ci)), headers=monitoring)
    ).json()
    assert again["results"][0] == {**opened, "action": "updated", "occurrences": 2}

    resolved = await client.post(URL, json=notification(alert("resolved", fingerprint, ci_id=ci)), headers=monitoring)
    assert resolved.json()["results"][0]["action"] == "resolved"
    after = (await client.get(f"/api/v1/incidents/{opened['incident_id']}", headers=auth("agent"))).json()
    assert (after["status"], after["resolution_code"]) == ("resolved", "resolved_by_monitoring")
    history = (await client.get(f"/api/v1/incidents/{opened['incident_id']}/history", headers=auth("agent"))).json()
    assert any(h["field"] == "work_note" and "resolved" in h["new"] for h in history)
    [row] = (await client.get("/api/v1/alerts", params={"fingerprint": fingerprint}, headers=auth("agent"))).json()[
        "items"
    ]
    assert (row["status"], row["occurrences"], row["incident_id"]) == ("resolved", 2, opened["incident_id"])

    # Firing again after its incident was resolved: a new incident.
    refire = (
        await client.post(URL, json=notification(alert("firing", fingerprint, ci_id=ci)), headers=monitoring)
    ).json()
    assert refire["results"][0]["action"] == "opened"
    assert refire["results"][0]["incident_id"] != opened["incident_id"]


async def test_a_resolved_alert_only_notes_an_incident_a_person_has_worked_on(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    monitoring = auth("monitoring", subject="alertmanager")
    fingerprint = uuid.uuid4().hex[:16]
    [opened] = (await client.post(URL, json=notification(alert("firing", fingerprint)), headers=monitoring)).json()[
        "results"
    ]
    url = f"/api/v1/incidents/{opened['incident_id']}"
    await client.post(f"{url}/assign", json={"assignment_group": "web"}, headers=auth("agent", subject="ann"))
    [noted] = (await client.post(URL, json=notification(alert("resolved", fingerprint)), headers=monitoring)).json()[
        "results"
    ]
    assert noted["action"] == "noted"
    after = (await client.get(url, headers=auth("agent"))).json()
    assert after["status"] == "assigned"
    history = (await client.get(f"{url}/history", headers=auth("agent"))).json()
    assert history[-1]["field"] == "work_note" and history[-1]["actor"] == "alertmanager"


async def test_a_resolved_alert_never_seen_firing_is_ignored_and_a_bad_ci_label_is_kept_as_a_note(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    monitoring = auth("agent", subject="alertmanager")  # an agent token may post too
    body = notification(alert("resolved", uuid.uuid4().hex[:16]), alert("firing", uuid.uuid4().hex[:16], ci_id="db01"))
    results = (await client.post(URL, json=body, headers=monitoring)).json()["results"]
    assert [r["action"] for r in results] == ["ignored", "opened"]
    created = (await client.get(f"/api/v1/incidents/{results[1]['incident_id']}", headers=auth("agent"))).json()
    assert created["ci_id"] is None and "label ci_id='db01' is not a CI id" in created["description"]


async def test_an_alert_on_a_ci_unknown_or_retired_here_opens_its_incident_without_the_ci(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    monitoring = auth("monitoring", subject="alertmanager")
    unknown, retired = uuid.uuid4(), await seed_ci(incident_db, status="retired")
    body = notification(
        alert("firing", uuid.uuid4().hex[:16], ci_id=str(unknown)),
        alert("firing", uuid.uuid4().hex[:16], ci_id=str(retired)),
    )
    results = (await client.post(URL, json=body, headers=monitoring)).json()["results"]
    assert [r["action"] for r in results] == ["opened", "opened"]
    for result, ci, why in zip(results, (unknown, retired), ("is not known here", "is retired"), strict=True):
        created = (await client.get(f"/api/v1/incidents/{result['incident_id']}", headers=auth("agent"))).json()
        assert created["ci_id"] is None
        assert f"Configuration item {ci} {why}" in created["description"]


async def _ci_from_config(database_url: str, **identifiers: str) -> ConfigItemCreated:
    """A CI as config's `ci.created.v1` tells the incident service of it (with its identifiers)."""
    tag = uuid.uuid4().hex[:6]
    data = ConfigItemCreated.model_validate(
        {
            "ci_id": uuid.uuid4(),
            "number": f"CI{uuid.uuid4().int % 10_000_000:07d}",
            "name": f"Checkout DB {tag}",
            "type": "database",
            "status": "live",
            "criticality": 2,
            "created_at": datetime.now(UTC),
            "identifiers": {k: v.replace("{tag}", tag) for k, v in identifiers.items()},
        }
    )
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
            event = new_event(data, source="/itsm/config", subject=str(data.ci_id))
            await ci_read_model.handlers[data.routing_key](event, uow)
            await uow.commit()
    finally:
        await engine.dispose()
    return data


async def test_a_ci_label_may_name_the_ci_by_its_name_host_name_identifier_or_number(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    monitoring, agent = auth("monitoring", subject="alertmanager"), auth("agent")
    ci = await _ci_from_config(incident_db, hostname="db-{tag}", fqdn="db-{tag}.shop.example", serial="SN-{tag}")
    host = f"db-{ci.name[-6:]}"
    labels = [ci.name, host.upper(), f"{host}.shop.example", f"SN-{ci.name[-6:]}", ci.number]
    body = notification(*(alert("firing", uuid.uuid4().hex[:16], ci_id=label) for label in labels))
    results = (await client.post(URL, json=body, headers=monitoring)).json()["results"]
    for label, result in zip(labels, results, strict=True):
        created = (await client.get(f"/api/v1/incidents/{result['incident_id']}", headers=agent)).json()
        assert created["ci_id"] == str(ci.ci_id), (label, created["description"])


async def test_a_ci_label_naming_several_cis_records_none_and_says_so(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    name = f"twin-{uuid.uuid4().hex[:6]}"
    for _ in range(2):
        await seed_ci(incident_db, name=name)
    body = notification(alert("firing", uuid.uuid4().hex[:16], ci_id=name))
    [result] = (await client.post(URL, json=body, headers=auth("monitoring", subject="alertmanager"))).json()["results"]
    created = (await client.get(f"/api/v1/incidents/{result['incident_id']}", headers=auth("agent"))).json()
    assert created["ci_id"] is None
    assert "names several CIs" in created["description"]


async def test_only_monitoring_or_agent_tokens_post_alerts(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    before = await row_counts(incident_db, *TABLES)
    body = notification(alert("firing", uuid.uuid4().hex[:16]))
    assert (await client.post(URL, json=body, headers=auth("requester"))).status_code == 403
    assert (await client.post(URL, json=body)).status_code == 401
    assert await row_counts(incident_db, *TABLES) == before
    # The monitoring role posts alerts and reads nothing.
    assert (await client.get("/api/v1/incidents", headers=auth("monitoring"))).status_code == 403


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


GOOD = notification(alert("firing", "0123456789abcdef"))
BAD_PAYLOADS = {
    "no alerts": {**GOOD, "alerts": []},
    "no version": _without(GOOD, "version"),
    "version 3": {**GOOD, "version": "3"},
    "bad status": {**GOOD, "status": "pending"},
    "alert without labels": {**GOOD, "alerts": [_without(GOOD["alerts"][0], "labels")]},
    "alert with a bad startsAt": {**GOOD, "alerts": [{**GOOD["alerts"][0], "startsAt": "yesterday"}]},
    "alert with a bad status": {**GOOD, "alerts": [{**GOOD["alerts"][0], "status": "silenced"}]},
    # the good alert before the bad one is not stored either: one notification, one transaction
    "one good, one bad": {**GOOD, "alerts": [GOOD["alerts"][0], {**GOOD["alerts"][0], "labels": "x"}]},
}


@pytest.mark.parametrize("payload", list(BAD_PAYLOADS.values()), ids=list(BAD_PAYLOADS))
async def test_a_malformed_notification_is_a_problem_document_and_stores_nothing(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str, payload: dict[str, Any]
) -> None:
    before = await row_counts(incident_db, *TABLES)
    r = await client.post(URL, json=payload, headers=auth("monitoring"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"]
    assert await row_counts(incident_db, *TABLES) == before


async def test_the_alert_list_refuses_bad_filters(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    r = await client.get("/api/v1/alerts", params={"status": "burning"}, headers=auth("agent"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
