"""Bulk export and import of CIs and relationships, as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.config.app import create_app
from services.config.settings import ConfigSettings
from services.config.store.tables import ci_relationship, ci_version, config_item
from tests.conftest import running
from tests.infra import row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db))) as client:
        yield client


@pytest.fixture
def headers(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("config_manager", subject="importer")


async def test_a_csv_import_creates_then_updates_by_number_and_exports_back(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    text = (
        "name,type,status,criticality,hostname,attributes\n"
        f'app-{tag},server,live,2,app-{tag},"{{""cpu_cores"": 4}}"\n'
        f"db-{tag},database,live,1,,\n"
    )
    r = await client.post("/api/v1/import/cis", content=text, headers={**headers, "content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "updated": 0, "unchanged": 0}

    exported = await client.get("/api/v1/export/cis", params={"format": "csv"}, headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(exported.text))}
    app = rows[f"app-{tag}"]
    assert json.loads(app["attributes"]) == {"cpu_cores": 4}
    assert app["hostname"] == f"app-{tag}"
    assert app["controlled"] == "false"
    by_accept = await client.get("/api/v1/export/cis", headers={**headers, "Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert f"app-{tag}" in {row["name"] for row in csv.DictReader(io.StringIO(by_accept.text))}

    relationships = f"source,type,target\n{app['number']},depends_on,{rows[f'db-{tag}']['number']}\n"
    r = await client.post(
        "/api/v1/import/relationships", content=relationships, headers={**headers, "content-type": "text/csv"}
    )
    assert r.json() == {"created": 1, "updated": 0, "unchanged": 0}
    again = await client.post(
        "/api/v1/import/relationships", content=relationships, headers={**headers, "content-type": "text/csv"}
    )
    assert again.json()["unchanged"] == 1
    listed = (await client.get("/api/v1/export/relationships", headers=headers)).json()
    assert {"source": app["number"], "type": "depends_on", "target": rows[f"db-{tag}"]["number"]} in listed

    update = [
        {"number": app["number"], "name": f"app-{tag}", "type": "server", "status": "live", "criticality": 1},
        {
            "number": rows[f"db-{tag}"]["number"],
            "name": f"db-{tag}",
            "type": "database",
            "status": "live",
            "criticality": 1,
        },
    ]
    r = await client.post("/api/v1/import/cis", json=update, headers=headers)
    assert r.json() == {"created": 0, "updated": 1, "unchanged": 1}  # the database row matched what is recorded
    [found] = (await client.get("/api/v1/cis", params={"q": f"app-{tag}"}, headers=headers)).json()["items"]
    history = (await client.get(f"/api/v1/cis/{found['id']}/history", headers=headers)).json()
    assert history["items"][0]["cause_kind"] == "import"
    assert history["items"][0]["actor"] == "importer"
    assert history["items"][0]["changes"] == {"criticality": {"old": 2, "new": 1}}  # attributes kept


async def test_an_import_with_one_bad_row_stores_nothing_and_names_the_row_and_field(
    client: httpx.AsyncClient, headers: dict[str, str], config_db: str
) -> None:
    before = await row_counts(config_db, config_item, ci_version, ci_relationship)
    tag = uuid.uuid4().hex[:6]
    rows = [
        {"name": f"ok-{tag}", "type": "server"},
        {"name": f"bad-{tag}", "type": "server", "attributes": {"cpu_cores": 0}},
        {"name": f"worse-{tag}", "type": "server", "criticality": 9},
        {"name": f"ghost-{tag}", "type": "server", "number": "CI9999999"},
    ]
    r = await client.post("/api/v1/import/cis", json=rows, headers=headers)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["rows[2].criticality"]  # shape errors first, before any write
    rows.pop(2)
    r = await client.post("/api/v1/import/cis", json=rows, headers=headers)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["rows[1].attributes.cpu_cores", "rows[2]"]
    assert await row_counts(config_db, config_item, ci_version, ci_relationship) == before
    bad_csv = "name,type,colour\nx,server,red\n"
    r = await client.post("/api/v1/import/cis", content=bad_csv, headers={**headers, "content-type": "text/csv"})
    assert r.status_code == 422
    assert "colour" in r.json()["detail"]
    assert (await client.post("/api/v1/import/cis", json={"not": "a list"}, headers=headers)).status_code == 422


async def test_a_csv_imported_twice_matches_its_cis_by_identifiers_as_discovery_does(
    client: httpx.AsyncClient, headers: dict[str, str], config_db: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    text = (
        "name,type,status,serial,hostname,fqdn,cloud_id\n"
        f"web-{tag},server,live,SN-{tag},web-{tag},,\n"
        f"db-{tag},server,live,,,db-{tag}.example.org,\n"
        f"vm-{tag},server,live,,,,i-{tag}\n"
    )
    csv_headers = {**headers, "content-type": "text/csv"}
    first = await client.post("/api/v1/import/cis", content=text, headers=csv_headers)
    assert first.json() == {"created": 3, "updated": 0, "unchanged": 0}, first.text
    before = await row_counts(config_db, config_item, ci_version)

    again = await client.post("/api/v1/import/cis", content=text, headers=csv_headers)
    assert again.status_code == 200, again.text
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3}
    assert await row_counts(config_db, config_item, ci_version) == before

    # A matched row updates its CI where it differs.
    changed = text.replace(f"web-{tag},server,live,", f"web-{tag},server,maintenance,")
    r = await client.post("/api/v1/import/cis", content=changed, headers=csv_headers)
    assert r.json() == {"created": 0, "updated": 1, "unchanged": 2}, r.text
    [web] = (await client.get("/api/v1/cis", params={"q": f"web-{tag}"}, headers=headers)).json()["items"]
    assert web["status"] == "maintenance"

    # A row whose identifiers point at two different CIs is ambiguous: the import stores nothing.
    both = f"name,type,serial,fqdn\nmixed-{tag},server,SN-{tag},db-{tag}.example.org\n"
    r = await client.post("/api/v1/import/cis", content=both, headers=csv_headers)
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "rows[0]" and "several CIs" in error["reason"]
