"""Report agreements over HTTP (ISO/IEC 20000-1 6.2): propose, agree, revise, retire; every change a
kept version; roles, If-Match and problem documents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from services.reporting.app import create_app
from services.reporting.domain.definitions import DEFINITIONS
from services.reporting.settings import ReportingSettings
from shared.db import create_engine
from tests.conftest import running
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]

HOOK = "https://reports.example.org/hooks/itsm"
PROPOSAL = {
    "owner": "Service level manager",
    "agreed_with": ["Customer board", "Mail service owner"],
    "distribution_list": [{"recipient": HOOK, "channel": "webhook"}],
    "reason": "monthly service review pack",
}


@pytest.fixture(scope="module")
async def database(servers: Servers) -> str:
    return await create_service_database(servers, "reporting", label="agreements")


@pytest.fixture
async def client(database: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ReportingSettings, database, run_worker=False))) as client:
        yield client


def listing(*entries: dict[str, str]) -> dict[str, Any]:
    return {**PROPOSAL, "distribution_list": list(entries)}


def slm(auth: Auth, **extra: str) -> dict[str, str]:
    return auth("service_level_manager", subject="sam") | extra


async def test_an_agreement_is_proposed_agreed_revised_and_retired_each_change_a_kept_version(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    path = "/api/v1/reports/service-levels/agreement"
    assert (await client.get(path, headers=auth("auditor"))).status_code == 404  # none yet

    proposed = await client.put(path, json=PROPOSAL, headers=slm(auth))
    assert proposed.status_code == 200, proposed.text
    assert proposed.headers["etag"] == 'W/"1"'
    draft = proposed.json()
    assert (draft["version"], draft["status"], draft["agreed_at"], draft["in_force_version"]) == (
        1,
        "draft",
        None,
        None,
    )
    assert (draft["scheduled"], draft["allowed_actions"]) == (False, ["agree", "propose", "retire"])
    assert draft["recorded_by"] == "sam"
    definition = next(d for d in DEFINITIONS if d.name == "service-levels")
    assert draft["definition"]["purpose"] == definition.purpose  # what the parties agree to, kept with it
    assert draft["definition"]["frequency"] == "monthly" and draft["definition_changed"] is False

    when = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    agreed = await client.post(
        f"{path}/agree",
        json={"agreed_at": when.isoformat(), "reason": "service review 2026-10"},
        headers=slm(auth, **{"If-Match": 'W/"1"'}),
    )
    assert agreed.status_code == 200, agreed.text
    body = agreed.json()
    assert (body["version"], body["status"], body["in_force_version"], body["scheduled"]) == (2, "agreed", 2, True)
    assert body["agreed_with"] == ["Customer board", "Mail service owner"]
    assert datetime.fromisoformat(body["agreed_at"]) == when
    assert body["distribution_list"] == [{"recipient": HOOK, "channel": "webhook"}]

    again = await client.post(f"{path}/agree", json={}, headers=slm(auth, **{"If-Match": 'W/"2"'}))
    assert again.status_code == 409
    assert again.json()["allowed_actions"] == ["propose", "retire"]

    # A revision is a draft on top: the agreed version stays in force (and scheduled) until it is agreed.
    revision = {**PROPOSAL, "distribution_list": [], "reason": "no webhook any more"}
    revised = await client.put(path, json=revision, headers=slm(auth, **{"If-Match": 'W/"2"'}))
    assert revised.status_code == 200, revised.text
    assert (revised.json()["version"], revised.json()["in_force_version"], revised.json()["scheduled"]) == (3, 2, True)

    retired = await client.post(
        f"{path}/retire", json={"reason": "merged into the SLA pack"}, headers=slm(auth, **{"If-Match": 'W/"3"'})
    )
    assert retired.status_code == 200, retired.text
    assert (retired.json()["status"], retired.json()["in_force_version"], retired.json()["scheduled"]) == (
        "retired",
        4,
        False,
    )

    history = (await client.get(f"{path}/versions", headers=auth("auditor"))).json()
    assert history["total"] == 4
    assert [(v["version"], v["status"]) for v in history["items"]] == [
        (1, "draft"),
        (2, "agreed"),
        (3, "draft"),
        (4, "retired"),
    ]
    assert [v["reason"] for v in history["items"]] == [
        "monthly service review pack",
        "service review 2026-10",
        "no webhook any more",
        "merged into the SLA pack",
    ]
    v2 = (await client.get(f"{path}/versions/2", headers=auth("agent"))).json()
    assert v2["distribution_list"] == [{"recipient": HOOK, "channel": "webhook"}]  # the old version, as it was
    assert (await client.get(f"{path}/versions/9", headers=auth("auditor"))).status_code == 404

    summary = (await client.get("/api/v1/report-agreements", headers=auth("auditor"))).json()["items"]
    assert [s["report"] for s in summary] == [d.name for d in DEFINITIONS]
    assert next(s for s in summary if s["report"] == "service-levels") == {
        "report": "service-levels",
        "version": 4,
        "status": "retired",
        "in_force_version": 4,
        "scheduled": False,
    }


async def test_only_the_service_level_manager_or_an_admin_changes_an_agreement(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    path = "/api/v1/reports/problems/agreement"
    for role in ("auditor", "agent", "requester", "incident_manager"):
        r = await client.put(path, json=PROPOSAL, headers=auth(role))
        assert r.status_code == 403, role
        assert r.headers["content-type"] == "application/problem+json"
    assert (await client.put(path, json=PROPOSAL, headers=auth("admin"))).status_code == 200
    assert (await client.get(path, headers=auth("auditor"))).json()["recorded_by"] == "tester"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (listing({"recipient": HOOK, "channel": "carrier-pigeon"}), "distribution_list.0.channel"),
        (
            listing({"recipient": HOOK, "channel": "webhook"}, {"recipient": "ftp://ex.org/x", "channel": "webhook"}),
            "distribution_list.1.recipient",
        ),
        (listing({"recipient": "reports", "channel": "webhook"}), "distribution_list.0.recipient"),
        (listing({"recipient": "https://u:p@example.org/h", "channel": "webhook"}), "distribution_list.0.recipient"),
        (listing(*[{"recipient": HOOK, "channel": "webhook"}] * 2), "distribution_list.1.recipient"),
        (listing({"recipient": HOOK}), "distribution_list.0.channel"),
        ({k: v for k, v in PROPOSAL.items() if k != "owner"}, "owner"),
        ({**PROPOSAL, "agreed_with": [""]}, "agreed_with.0"),
        ({**PROPOSAL, "colour": "blue"}, "colour"),
    ],
)  # fmt: skip
async def test_bad_agreements_are_problem_documents_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, body: dict[str, Any], field: str
) -> None:
    r = await client.put("/api/v1/reports/changes/agreement", json=body, headers=slm(auth))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert (await client.get("/api/v1/reports/changes/agreement", headers=auth("auditor"))).status_code == 404


async def test_unknown_report_missing_or_stale_if_match_and_agreeing_without_parties(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    unknown = await client.put("/api/v1/reports/nonsense/agreement", json=PROPOSAL, headers=slm(auth))
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, "application/problem+json")
    assert (await client.get("/api/v1/reports/nonsense/agreement/versions", headers=auth("auditor"))).status_code == 404

    path = "/api/v1/reports/dora/agreement"
    stale_first = await client.put(path, json=PROPOSAL, headers=slm(auth, **{"If-Match": 'W/"3"'}))
    assert stale_first.status_code == 412  # there is no version 3 to change
    nobody = {**PROPOSAL, "agreed_with": []}
    assert (await client.put(path, json=nobody, headers=slm(auth))).status_code == 200
    assert (await client.put(path, json=PROPOSAL, headers=slm(auth))).status_code == 428  # If-Match needed now
    assert (await client.put(path, json=PROPOSAL, headers=slm(auth, **{"If-Match": 'W/"0"'}))).status_code == 412
    assert (await client.post(f"{path}/agree", json={}, headers=slm(auth))).status_code == 428
    no_parties = await client.post(f"{path}/agree", json={}, headers=slm(auth, **{"If-Match": 'W/"1"'}))
    assert no_parties.status_code == 422
    assert [e["field"] for e in no_parties.json()["errors"]] == ["agreed_with"]
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    tomorrow = await client.post(
        f"{path}/agree", json={"agreed_with": ["CAB"], "agreed_at": future}, headers=slm(auth, **{"If-Match": 'W/"1"'})
    )
    assert (tomorrow.status_code, tomorrow.json()["errors"][0]["field"]) == (422, "agreed_at")
    no_reason = await client.post(f"{path}/retire", json={}, headers=slm(auth, **{"If-Match": 'W/"1"'}))
    assert (no_reason.status_code, no_reason.json()["errors"][0]["field"]) == (422, "reason")
    ok = await client.post(f"{path}/agree", json={"agreed_with": ["CAB"]}, headers=slm(auth, **{"If-Match": 'W/"1"'}))
    assert (ok.status_code, ok.json()["agreed_with"], ok.json()["scheduled"]) == (200, ["CAB"], True)


async def test_two_writers_of_the_same_version_one_wins_the_other_gets_412(
    client: httpx.AsyncClient, auth: Auth, database: str
) -> None:
    path = "/api/v1/reports/availability/agreement"
    assert (await client.put(path, json=PROPOSAL, headers=slm(auth))).status_code == 200
    answers = await asyncio.gather(
        *(
            client.put(path, json={**PROPOSAL, "reason": f"writer {n}"}, headers=slm(auth, **{"If-Match": 'W/"1"'}))
            for n in range(4)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 412, 412, 412]
    history = (await client.get(f"{path}/versions", headers=auth("auditor"))).json()
    assert history["total"] == 2
    # A recorded version cannot be changed or removed, even in SQL.
    engine = create_engine(database)
    try:
        for statement in (
            "UPDATE report_agreement SET owner = 'someone else'",
            "DELETE FROM report_agreement WHERE report = 'availability'",
        ):
            with pytest.raises(DBAPIError, match="never updated or deleted"):
                async with engine.begin() as conn:
                    await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()
    assert (await client.get(f"{path}/versions", headers=auth("auditor"))).json()["total"] == 2
