"""Templates, releases, deployments, pipeline notifications and the gate through the change API,
on the run's PostgreSQL and RabbitMQ. Each bad request is a problem+json and stores nothing."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from services.change.app import create_app
from services.change.domain.pipeline import github_signature
from services.change.settings import ChangeSettings
from services.change.store.tables import change, change_template, deployment, deployment_notification, outbox, release
from shared.events import new_event
from shared.events.incident import IncidentLinkedToChange
from shared.messaging import declare_exchange
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually, outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
SECRET = "It's a Secret to Everybody"
FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "github_deployment_status.json").read_text())
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def delivery_db(servers: Servers) -> str:
    # A database of its own: templates and blackouts here must not meet other tests' gates.
    return await create_service_database(servers, "change", label="delivery")


@pytest.fixture
async def client(delivery_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(ChangeSettings, delivery_db, github_webhook_secret=SECRET)
    async with running(create_app(settings)) as client:
        yield client


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    return body


async def _template(client: httpx.AsyncClient, auth: Auth, **body: Any) -> dict[str, Any]:
    payload = {
        "name": "Deploy from the pipeline",
        "category": "software",
        "implementation_plan": "The deploy workflow rolls the new version out pod by pod",
        "backout_plan": "Re-run the workflow with the previous tag",
        "test_plan": "Smoke tests in the workflow",
        "default_duration_minutes": 30,
        **body,
    }
    r = await client.post("/api/v1/templates", json=payload, headers=auth("change_manager", subject="mike"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _normal_change(
    client: httpx.AsyncClient, auth: Auth, *, start: datetime, hours: float, service_ids: list[str], schedule: bool
) -> dict[str, Any]:
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    body = {
        "title": "Upgrade checkout",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=hours)).isoformat(),
        "service_ids": service_ids,
    }
    created = await client.post("/api/v1/changes", json=body, headers=rita)
    assert created.status_code == 201, created.text
    url = f"/api/v1/changes/{created.json()['id']}"
    await client.post(f"{url}/submit", headers=rita)
    await client.post(f"{url}/assess", json={"risk": "low"}, headers=auth("change_manager", subject="ann"))
    r = await client.post(f"{url}/approve", headers=mike)
    if schedule:
        r = await client.post(f"{url}/schedule", headers=mike)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _github(repo: str, deployment_id: int, status_id: int, state: str, **deployment: Any) -> dict[str, Any]:
    payload = copy.deepcopy(FIXTURE)
    payload["repository"]["full_name"] = repo
    payload["deployment"]["id"] = deployment_id
    payload["deployment"].update(deployment)
    payload["deployment_status"].update(id=status_id, state=state)
    return payload


async def _send_github(
    client: httpx.AsyncClient, payload: dict[str, Any], *, secret: str = SECRET, event: str = "deployment_status"
) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/5a6b1f2",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "471234567",
        "X-Hub-Signature-256": github_signature(secret, body),
    }
    return await client.post("/api/v1/deployments/events", content=body, headers=headers)


# ---------------------------------------------------------------------------- templates


async def test_a_standard_change_stays_within_its_templates_service(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    rita = auth("requester", subject="rita")
    service, elsewhere = str(uuid.uuid4()), str(uuid.uuid4())
    template = await _template(client, auth, name="Restart the web tier", service_id=service)
    counts = await row_counts(delivery_db, change, outbox)
    for services in ([elsewhere], [service, elsewhere]):
        refused = _problem(
            await client.post(
                f"/api/v1/templates/{template['id']}/changes", json={"service_ids": services}, headers=rita
            ),
            422,
        )
        assert [e["field"] for e in refused["errors"]] == ["service_ids"], refused
    assert await row_counts(delivery_db, change, outbox) == counts
    inside = await client.post(
        f"/api/v1/templates/{template['id']}/changes", json={"service_ids": [service]}, headers=rita
    )
    assert inside.status_code == 201, inside.text
    assert inside.json()["status"] == "approved"


async def test_templates_are_kept_by_change_managers_and_make_approved_standard_changes(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    mike, rita = auth("change_manager", subject="mike"), auth("requester", subject="rita")
    service = str(uuid.uuid4())
    template = await _template(client, auth, name="Rotate TLS certificates", service_id=service)
    assert (template["risk"], template["active"], template["default_duration_minutes"]) == ("low", True, 30)
    url = f"/api/v1/templates/{template['id']}"
    assert (await client.get(url, headers=auth("auditor"))).json()["name"] == "Rotate TLS certificates"
    assert template["id"] in [t["id"] for t in (await client.get("/api/v1/templates", headers=rita)).json()]

    _problem(await client.patch(url, json={"description": "x"}, headers=mike), 428)
    _problem(await client.patch(url, json={"description": "x"}, headers={**mike, "If-Match": 'W/"9"'}), 412)
    _problem(await client.patch(url, json={"backout_plan": None}, headers={**mike, "If-Match": 'W/"1"'}), 422)
    updated = await client.patch(url, json={"description": "Quarterly"}, headers={**mike, "If-Match": 'W/"1"'})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    _problem(await client.post("/api/v1/templates", json={"name": "x"}, headers=rita), 403)

    counts = await row_counts(delivery_db, change_template, change)
    for bad in (
        {"name": "No way back", "implementation_plan": "do it"},  # no back-out plan
        {"name": "x", "implementation_plan": "a", "backout_plan": "b", "default_duration_minutes": 0},
        {"name": "x", "implementation_plan": "a", "backout_plan": "b", "unknown": 1},
    ):
        _problem(await client.post("/api/v1/templates", json=bad, headers=mike), 422)
    start = datetime.now(UTC) + timedelta(days=3)
    _problem(await client.post(f"{url}/changes", json={"planned_start": "tomorrow"}, headers=rita), 422)
    _problem(await client.post(f"/api/v1/templates/{uuid.uuid4()}/changes", headers=rita), 404)
    bad_type = {"template_id": template["id"], "type": "normal"}
    refused_type = _problem(await client.post("/api/v1/changes", json=bad_type, headers=rita), 422)
    assert refused_type["errors"][0]["field"] == "type"
    assert await row_counts(delivery_db, change_template, change) == counts

    made = await client.post(f"{url}/changes", json={"planned_start": start.isoformat()}, headers=rita)
    assert made.status_code == 201, made.text
    standard = made.json()
    assert (standard["type"], standard["status"], standard["requester"]) == ("standard", "approved", "rita")
    assert standard["template_id"] == template["id"] and standard["service_ids"] == [service]
    assert standard["title"] == "Rotate TLS certificates"
    assert standard["backout_plan"] == "Re-run the workflow with the previous tag"
    assert standard["planned_end"] == (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    assert standard["votes"] == []  # no CAB, no approver: the template is the approval
    types = [e.type for e in await outbox_events(delivery_db, outbox, standard["id"])]
    assert types == ["itsm.change.created.v1", "itsm.change.submitted.v1", "itsm.change.approved.v1"]

    by_body = await client.post(
        "/api/v1/changes", json={"template_id": template["id"], "title": "Rotate the API gateway's"}, headers=rita
    )
    assert by_body.status_code == 201, by_body.text
    assert (by_body.json()["status"], by_body.json()["title"]) == ("approved", "Rotate the API gateway's")

    _problem(await client.delete(url, headers=mike), 409)  # in use: retire it instead
    retired = await client.patch(url, json={"active": False}, headers={**mike, "If-Match": 'W/"2"'})
    assert retired.json()["active"] is False
    _problem(await client.post(f"{url}/changes", headers=rita), 409)
    unused = await _template(client, auth, name="Never used")
    assert (await client.delete(f"/api/v1/templates/{unused['id']}", headers=mike)).status_code == 204
    _problem(await client.get(f"/api/v1/templates/{unused['id']}", headers=mike), 404)


# ---------------------------------------------------------------------------- releases


async def test_a_release_goes_from_planned_to_closed_and_refuses_what_its_status_does_not_allow(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    mike = auth("change_manager", subject="mike")
    service = str(uuid.uuid4())
    approved = await _normal_change(
        client, auth, start=datetime.now(UTC) + timedelta(days=2), hours=1, service_ids=[service], schedule=False
    )
    body = {
        "name": "Checkout spring release",
        "version": "2.4.0",
        "type": "major",
        "service_id": service,
        "change_ids": [approved["id"]],
        "known_error_ids": [str(uuid.uuid4())],
        "planned_date": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "acceptance_criteria": ["p95 of checkout under 300 ms", "no open severity 1 defects"],
    }
    counts = await row_counts(delivery_db, release)
    missing = _problem(
        await client.post("/api/v1/releases", json={**body, "change_ids": [str(uuid.uuid4())]}, headers=mike), 422
    )
    assert missing["errors"][0]["field"] == "change_ids"
    _problem(await client.post("/api/v1/releases", json={**body, "type": "patch"}, headers=mike), 422)
    _problem(await client.post("/api/v1/releases", json={**body, "version": ""}, headers=mike), 422)
    _problem(await client.post("/api/v1/releases", json=body, headers=auth("requester")), 403)
    assert await row_counts(delivery_db, release) == counts

    created = await client.post("/api/v1/releases", json=body, headers=mike)
    assert created.status_code == 201, created.text
    rel = created.json()
    assert rel["number"].startswith("REL") and rel["status"] == "planned"
    assert rel["allowed_actions"] == ["build", "cancel"]
    url = f"/api/v1/releases/{rel['id']}"

    refused = _problem(await client.post(f"{url}/deploy", headers=mike), 409)
    assert refused["allowed_actions"] == ["build", "cancel"] and refused["state"] == "planned"
    assert (await client.post(f"{url}/build", headers=mike)).json()["status"] == "built"
    _problem(await client.post(f"{url}/deploy", headers=mike), 409)  # a major release is accepted first
    _problem(await client.post(f"{url}/accept", json={}, headers=mike), 422)
    _problem(await client.post(f"{url}/build", headers={**mike, "If-Match": 'W/"1"'}), 412)
    accepted = (await client.post(f"{url}/accept", json={"notes": "load test: p95 212 ms"}, headers=mike)).json()
    assert (accepted["status"], accepted["acceptance_result"], accepted["acceptance_by"]) == (
        "accepted",
        "passed",
        "mike",
    )
    deployed = (await client.post(f"{url}/deploy", headers=mike)).json()
    assert deployed["status"] == "deployed" and deployed["deployed_at"]
    _problem(await client.post(f"{url}/cancel", headers=mike), 409)
    closed = (await client.post(f"{url}/close", headers=mike)).json()
    assert (closed["status"], closed["allowed_actions"]) == ("closed", [])
    listed = (await client.get("/api/v1/releases", params={"service_id": service}, headers=auth("auditor"))).json()
    assert [r["number"] for r in listed["items"]] == [rel["number"]]

    events = await outbox_events(delivery_db, outbox, rel["id"])
    assert [e.type for e in events] == ["itsm.release.created.v1"] + ["itsm.release.status_changed.v1"] * 4
    assert [e.data["status"] for e in events] == ["planned", "built", "accepted", "deployed", "closed"]
    assert events[2].data["acceptance_result"] == "passed" and events[2].data["previous_status"] == "built"
    assert events[0].data["change_ids"] == [approved["id"]] and events[0].data["service_id"] == service


async def test_a_release_with_an_unapproved_change_is_not_deployed(client: httpx.AsyncClient, auth: Auth) -> None:
    mike = auth("change_manager", subject="mike")
    draft = (await client.post("/api/v1/changes", json={"title": "Not yet"}, headers=auth("requester"))).json()
    body = {"name": "Hotfix", "version": "2.4.1", "type": "emergency", "change_ids": [draft["id"]]}
    rel = (await client.post("/api/v1/releases", json=body, headers=mike)).json()
    url = f"/api/v1/releases/{rel['id']}"
    await client.post(f"{url}/build", headers=mike)
    refused = _problem(await client.post(f"{url}/deploy", headers=mike), 409)
    assert draft["number"] in refused["detail"]
    assert (await client.get(url, headers=mike)).json()["status"] == "built"


# ---------------------------------------------------------------------------- pipelines


async def test_a_github_deployment_status_is_recorded_and_linked_to_a_standard_change(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    repo, service = f"acme/checkout-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    template = await _template(client, auth, service_id=service, pipeline_names=[repo])
    deployment_id, first_status = uuid.uuid4().int % 10**10, uuid.uuid4().int % 10**10

    started = await _send_github(client, _github(repo, deployment_id, first_status, "in_progress"))
    assert started.status_code == 201, started.text
    answer = started.json()
    assert answer["change_created"] is True and answer["duplicate"] is False
    change_ref, dep = answer["change"], answer["deployment"]
    assert (change_ref["type"], change_ref["status"], change_ref["template_id"]) == (
        "standard",
        "implementing",
        template["id"],
    )
    assert (dep["service"], dep["service_id"], dep["environment"], dep["result"], dep["source"]) == (
        repo,
        service,
        "production",
        "in_progress",
        "github",
    )
    assert dep["commit_sha"] == FIXTURE["deployment"]["sha"] and dep["version"] == "v2.4.0"
    assert dep["change_number"] == change_ref["number"]

    success = _github(repo, deployment_id, first_status + 1, "success")
    done = await _send_github(client, success)
    assert done.status_code == 200, done.text
    assert done.json()["deployment"]["id"] == dep["id"]
    assert done.json()["deployment"]["result"] == "succeeded"
    assert done.json()["deployment"]["url"] == FIXTURE["deployment_status"]["log_url"]
    assert done.json()["change"]["status"] == "implemented"

    counts = await row_counts(delivery_db, deployment, deployment_notification, change, outbox)
    again = await _send_github(client, success)  # GitHub redelivers the same status
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await row_counts(delivery_db, deployment, deployment_notification, change, outbox) == counts

    read = (await client.get(f"/api/v1/changes/{change_ref['id']}", headers=auth("auditor"))).json()
    assert read["template_id"] == template["id"] and read["service_ids"] == [service]
    assert read["implementation_plan"] == template["implementation_plan"]
    events = await outbox_events(delivery_db, outbox, dep["id"])
    assert [e.data["result"] for e in events] == ["in_progress", "succeeded"]
    last = events[-1].data
    assert last["change_id"] == change_ref["id"] and last["change_number"] == change_ref["number"]
    assert (last["service"], last["service_id"], last["source"], last["commit_sha"]) == (
        repo,
        service,
        "github",
        FIXTURE["deployment"]["sha"],
    )
    assert last["finished_at"] and last["started_at"] and last["url"]
    change_events = [e.type for e in await outbox_events(delivery_db, outbox, change_ref["id"])]
    assert change_events[-2:] == ["itsm.change.implementing.v1", "itsm.change.implemented.v1"]
    listed = (await client.get("/api/v1/deployments", params={"service": repo}, headers=auth("auditor"))).json()
    assert [d["id"] for d in listed["items"]] == [dep["id"]]

    inactive = await _send_github(client, _github(repo, deployment_id, first_status + 2, "inactive"))
    assert inactive.status_code == 202 and inactive.json()["deployment"] is None


async def test_a_github_payload_naming_a_change_is_linked_to_it(client: httpx.AsyncClient, auth: Auth) -> None:
    service = str(uuid.uuid4())
    scheduled = await _normal_change(
        client, auth, start=datetime.now(UTC) - timedelta(minutes=5), hours=1, service_ids=[service], schedule=True
    )
    payload = _github(
        f"acme/named-{uuid.uuid4().hex[:6]}",
        uuid.uuid4().int % 10**10,
        uuid.uuid4().int % 10**10,
        "success",
        payload={"change_number": scheduled["number"], "service": "checkout-api", "version": "2.5.0"},
    )
    r = await _send_github(client, payload)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["change_created"] is False and answer["change"]["number"] == scheduled["number"]
    assert answer["change"]["status"] == "scheduled"  # a normal change is moved by its manager, not the pipeline
    assert (answer["deployment"]["service"], answer["deployment"]["version"]) == ("checkout-api", "2.5.0")


async def test_the_webhook_signature_is_required_when_a_secret_is_configured(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    payload = _github("acme/unsigned", 77, 78, "success")
    counts = await row_counts(delivery_db, deployment, deployment_notification, change)
    wrong = _problem(await _send_github(client, payload, secret="not the secret"), 401)
    assert "X-Hub-Signature-256" in wrong["detail"]
    unsigned = await client.post(
        "/api/v1/deployments/events", json=payload, headers={"X-GitHub-Event": "deployment_status"}
    )
    _problem(unsigned, 401)
    body = json.dumps(payload).encode()
    tampered = await client.post(
        "/api/v1/deployments/events",
        content=body.replace(b"success", b"failure"),
        headers={"X-GitHub-Event": "deployment_status", "X-Hub-Signature-256": github_signature(SECRET, body)},
    )
    _problem(tampered, 401)
    no_token = await client.post("/api/v1/deployments/events", json={"service": "x"})
    _problem(no_token, 401)
    assert await row_counts(delivery_db, deployment, deployment_notification, change) == counts
    ping = await _send_github(client, {"zen": "Design for failure.", "hook_id": 471234567}, event="ping")
    assert ping.status_code == 202 and "ping" in ping.json()["ignored"]


async def test_bad_pipeline_notifications_are_problems_and_store_nothing(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    pipeline = auth("pipeline", subject="jenkins")
    good = {"service": "billing", "environment": "production", "status": "succeeded", "version": "1.2.3"}
    counts = await row_counts(delivery_db, deployment, deployment_notification, change, outbox)
    for bad, field in (
        ({**good, "environment": "github-pages"}, "environment"),
        ({**good, "status": "done"}, "status"),
        ({**good, "commit_sha": "not-a-sha"}, "commit_sha"),
        ({**good, "change_number": "CHG9999999"}, "change_number"),
        ({**good, "started_at": "2031-05-06T12:00:00Z", "finished_at": "2031-05-06T11:00:00Z"}, "finished_at"),
        ({k: v for k, v in good.items() if k != "service"}, "service"),
    ):
        r = await client.post("/api/v1/deployments/events", json=bad, headers=pipeline)
        assert field in {e["field"] for e in _problem(r, 422)["errors"]}, r.text
    not_json = await client.post(
        "/api/v1/deployments/events", content=b"{oops", headers={**pipeline, "Content-Type": "application/json"}
    )
    _problem(not_json, 422)
    broken = _github("acme/broken", 1, 2, "success")
    del broken["deployment"]["sha"]
    _problem(await _send_github(client, broken), 422)
    _problem(await _send_github(client, _github("acme/broken", 1, 3, "success", environment="github-pages")), 422)
    _problem(await client.post("/api/v1/deployments/events", json=good, headers=auth("requester")), 403)
    assert await row_counts(delivery_db, deployment, deployment_notification, change, outbox) == counts


async def test_a_pipeline_default_template_covers_services_no_template_names(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    pipeline, mike = auth("pipeline", subject="jenkins"), auth("change_manager", subject="mike")
    service = f"unmapped-{uuid.uuid4().hex[:8]}"
    event = {"service": service, "environment": "staging", "status": "succeeded", "deployment_id": "run-1"}
    bare = (await client.post("/api/v1/deployments/events", json=event, headers=pipeline)).json()
    assert bare["change"] is None and "no change authorises" in bare["warnings"][0]
    default = await _template(client, auth, name="Pipeline deployment", pipeline_default=True)
    try:
        event2 = {**event, "deployment_id": "run-2", "event_id": "evt-run-2"}
        made = await client.post("/api/v1/deployments/events", json=event2, headers=pipeline)
        assert made.status_code == 201, made.text
        assert made.json()["change"]["template_id"] == default["id"]
        assert made.json()["change"]["status"] == "implemented"
        again = await client.post("/api/v1/deployments/events", json=event2, headers=pipeline)
        assert again.json()["duplicate"] is True
    finally:
        r = await client.patch(
            f"/api/v1/templates/{default['id']}", json={"active": False}, headers={**mike, "If-Match": 'W/"1"'}
        )
        assert r.status_code == 200


# ---------------------------------------------------------------------------- deployments by hand


async def test_deployments_are_recorded_verified_rolled_back_and_filtered(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    mike = auth("change_manager", subject="mike")
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    base = {"service": service, "version": "3.0.0"}
    to_test = await client.post(
        "/api/v1/deployments", json={**base, "environment": "test", "result": "succeeded"}, headers=mike
    )
    assert to_test.status_code == 201, to_test.text
    to_prod = (
        await client.post(
            "/api/v1/deployments", json={**base, "environment": "production", "result": "succeeded"}, headers=mike
        )
    ).json()["deployment"]
    url = f"/api/v1/deployments/{to_prod['id']}"
    check = {"verification": "smoke: 5xx on /pay", "passed": False}
    failed = await client.post(f"{url}/verify", json=check, headers=mike)
    assert failed.json()["result"] == "failed"
    rolled = await client.post(f"{url}/roll-back", json={"notes": "back to 2.9.1"}, headers=mike)
    assert (rolled.json()["result"], rolled.json()["rollback_notes"]) == ("rolled_back", "back to 2.9.1")
    _problem(await client.post(f"{url}/roll-back", json={"notes": "again"}, headers=mike), 409)

    reader = auth("auditor")
    params: dict[str, str] = {"service": service}
    assert (await client.get("/api/v1/deployments", params=params, headers=reader)).json()["total"] == 2
    prod = (await client.get("/api/v1/deployments", params={**params, "environment": "prod"}, headers=reader)).json()
    assert [d["id"] for d in prod["items"]] == [to_prod["id"]]
    rolled_back = {**params, "result": "rolled_back"}
    assert (await client.get("/api/v1/deployments", params=rolled_back, headers=reader)).json()["total"] == 1
    later = {**params, "since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert (await client.get("/api/v1/deployments", params=later, headers=reader)).json()["total"] == 0
    window = {**params, "since": "2031-01-02T00:00:00Z", "until": "2031-01-01T00:00:00Z"}
    _problem(await client.get("/api/v1/deployments", params=window, headers=reader), 422)
    _problem(await client.get("/api/v1/deployments", params={"result": "fine"}, headers=reader), 422)

    counts = await row_counts(delivery_db, deployment)
    for bad in (
        {**base, "environment": "moon", "result": "succeeded"},
        {**base, "environment": "test", "result": "in_progress", "finished_at": "2031-01-01T00:00:00Z"},
        {**base, "environment": "test", "result": "succeeded", "release_id": str(uuid.uuid4())},
        {**base, "environment": "test", "result": "succeeded", "change_id": str(uuid.uuid4())},
    ):
        _problem(await client.post("/api/v1/deployments", json=bad, headers=mike), 422)
    _problem(await client.post("/api/v1/deployments", json={**base, "environment": "test"}, headers=reader), 403)
    assert await row_counts(delivery_db, deployment) == counts


# ---------------------------------------------------------------------------- the gate


async def test_the_gate_says_yes_inside_an_approved_window_and_no_inside_a_blackout(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    pipeline, mike = auth("pipeline", subject="jenkins"), auth("change_manager", subject="mike")
    service = str(uuid.uuid4())
    ask = {"service": service, "environment": "production"}

    closed = (await client.get("/api/v1/gate", params=ask, headers=pipeline)).json()
    assert closed["allowed"] is False and "no approved change" in closed["reasons"][0]

    now = datetime.now(UTC)
    window = await _normal_change(
        client, auth, start=now - timedelta(minutes=10), hours=2, service_ids=[service], schedule=True
    )
    r = await client.get("/api/v1/gate", params=ask, headers=pipeline)
    assert r.status_code == 200
    yes = r.json()
    assert yes["allowed"] is True and yes["change"]["number"] == window["number"]
    assert window["number"] in yes["reasons"][0]

    freeze = {
        "name": "Quarter-end freeze",
        "start": (now - timedelta(minutes=1)).isoformat(),
        "end": (now + timedelta(hours=3)).isoformat(),
        "ci_ids": [service],  # services are CIs: the freeze covers this one
    }
    assert (await client.post("/api/v1/blackouts", json=freeze, headers=mike)).status_code == 201
    r = await client.get("/api/v1/gate", params=ask, headers=pipeline)
    assert r.status_code == 200
    no = r.json()
    assert no["allowed"] is False and no["change"]["number"] == window["number"]
    assert [b["name"] for b in no["blackouts"]] == ["Quarter-end freeze"]
    assert any("Quarter-end freeze" in reason for reason in no["reasons"])

    test_env = (await client.get("/api/v1/gate", params={**ask, "environment": "test"}, headers=pipeline)).json()
    assert test_env["allowed"] is True and "not under change control" in test_env["reasons"][0]
    _problem(await client.get("/api/v1/gate", params={**ask, "environment": "mars"}, headers=pipeline), 422)
    _problem(await client.get("/api/v1/gate", params={"environment": "production"}, headers=pipeline), 422)
    _problem(await client.get("/api/v1/gate", params=ask), 401)
    _problem(await client.get("/api/v1/changes", headers=pipeline), 403)  # a pipeline reads nothing else


async def test_the_gate_resolves_a_pipeline_name_through_its_template(client: httpx.AsyncClient, auth: Auth) -> None:
    repo, service = f"acme/search-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
    template = await _template(client, auth, name="Deploy search", service_id=service, pipeline_names=[repo])
    answer = (
        await client.get(
            "/api/v1/gate", params={"service": repo, "environment": "production"}, headers=auth("pipeline")
        )
    ).json()
    assert answer["allowed"] is True and answer["service_id"] == service
    assert answer["template"]["id"] == template["id"]


# ---------------------------------------------------------------------------- incidents after a release


async def test_incidents_linked_to_a_released_change_show_on_the_release_and_its_deployment(
    client: httpx.AsyncClient, auth: Auth, servers: Servers
) -> None:
    mike = auth("change_manager", subject="mike")
    service = str(uuid.uuid4())
    approved = await _normal_change(
        client, auth, start=datetime.now(UTC) - timedelta(minutes=5), hours=1, service_ids=[service], schedule=True
    )
    body = {"name": "Hotfix", "version": "2.4.2", "type": "emergency", "change_ids": [approved["id"]]}
    rel = (await client.post("/api/v1/releases", json=body, headers=mike)).json()
    url = f"/api/v1/releases/{rel['id']}"
    await client.post(f"{url}/build", headers=mike)
    assert (await client.post(f"{url}/deploy", headers=mike)).json()["status"] == "deployed"
    recorded = {
        "service": "checkout",
        "environment": "production",
        "result": "succeeded",
        "change_id": approved["id"],
        "release_id": rel["id"],
    }
    dep = (await client.post("/api/v1/deployments", json=recorded, headers=mike)).json()["deployment"]

    incident_id = uuid.uuid4()
    link = IncidentLinkedToChange(
        incident_id=incident_id,
        incident_number="INC0004242",
        change_id=uuid.UUID(approved["id"]),
        change_number=approved["number"],
        service_id=uuid.UUID(service),
        reason="probable_cause",
        occurred_at=datetime.now(UTC),
    )
    event = new_event(link, source="/itsm/incident", subject=str(incident_id))
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        exchange = await declare_exchange(await connection.channel(), servers.exchange)
        message = aio_pika.Message(
            event.model_dump_json().encode(), content_type="application/cloudevents+json", message_id=str(event.id)
        )
        for _ in range(2):  # delivered twice: shown once
            await exchange.publish(message, routing_key=event.routing_key)

    async def shown() -> dict[str, Any]:
        read = (await client.get(url, headers=auth("auditor"))).json()
        assert [i["incident_number"] for i in read["incidents"]] == ["INC0004242"]
        return dict(read)

    read = await eventually(shown)
    assert read["incidents"][0]["after_release"] is True and read["incidents"][0]["reason"] == "probable_cause"
    assert [d["id"] for d in read["deployments"]] == [dep["id"]]
    dep_read = (await client.get(f"/api/v1/deployments/{dep['id']}", headers=auth("auditor"))).json()
    assert [i["incident_id"] for i in dep_read["incidents"]] == [str(incident_id)]


async def test_the_same_notification_delivered_twice_at_once_records_one_deployment(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    repo = f"acme/race-{uuid.uuid4().hex[:6]}"
    await _template(client, auth, name="Deploy race", pipeline_names=[repo])
    payload = _github(repo, uuid.uuid4().int % 10**10, uuid.uuid4().int % 10**10, "success")
    before = await row_counts(delivery_db, deployment, deployment_notification)
    first, second = await asyncio.gather(_send_github(client, payload), _send_github(client, payload))
    assert {first.status_code, second.status_code} <= {200, 201}, (first.text, second.text)
    assert first.json()["deployment"]["id"] == second.json()["deployment"]["id"]
    after = await row_counts(delivery_db, deployment, deployment_notification)
    assert after == (before[0] + 1, before[1] + 1)


async def test_a_pipeline_deployment_in_the_window_of_an_approved_change_for_its_service_is_attached_to_it(
    client: httpx.AsyncClient, auth: Auth, delivery_db: str
) -> None:
    pipeline = auth("pipeline", subject="jenkins")
    repo, service = f"acme/cart-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
    await _template(client, auth, name="Deploy cart", service_id=service, pipeline_names=[repo])
    now = datetime.now(UTC)
    approved = await _normal_change(
        client, auth, start=now - timedelta(minutes=10), hours=2, service_ids=[service], schedule=False
    )
    changes_before = await row_counts(delivery_db, change)
    event = {"service": repo, "environment": "production", "status": "succeeded", "version": "3.1.0"}

    r = await client.post("/api/v1/deployments/events", json={**event, "deployment_id": "cart-1"}, headers=pipeline)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["change_created"] is False and answer["change"]["number"] == approved["number"]
    assert answer["change"]["status"] == "approved"  # a normal change is moved by its manager, not the pipeline
    assert answer["deployment"]["change_number"] == approved["number"]
    assert await row_counts(delivery_db, change) == changes_before  # no second change for one deployment

    # Outside the change's window the template's standard change records it, as before.
    late = {**event, "deployment_id": "cart-2", "started_at": (now + timedelta(hours=3)).isoformat()}
    r = await client.post("/api/v1/deployments/events", json=late, headers=pipeline)
    assert r.status_code == 201, r.text
    assert r.json()["change_created"] is True and r.json()["change"]["number"] != approved["number"]
