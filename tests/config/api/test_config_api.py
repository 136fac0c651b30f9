"""The configuration item API in process, against the run's PostgreSQL and RabbitMQ."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.config.app import create_app
from services.config.domain.items import Cause, CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.types import BUILTIN_TYPES
from services.config.settings import ConfigSettings
from services.config.store.items import ConfigItemRepository
from services.config.store.tables import config_item, outbox
from shared.db import create_engine
from shared.errors import Conflict
from shared.events.config import ConfigItemCreated
from tests.conftest import running
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/cis"
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db))) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _create(client: httpx.AsyncClient, auth: Auth, **body: Any) -> httpx.Response:
    return await client.post(URL, json={"name": unique("ci"), "type": "server", **body}, headers=auth("config_manager"))


async def test_a_ci_is_registered_with_defaults_and_read_back_as_written(client: httpx.AsyncClient, auth: Auth) -> None:
    created = await client.post(URL, json={"name": "mail-store", "type": "database"}, headers=auth("config_manager"))
    assert created.status_code == 201, created.text
    read = created.json()
    assert re.fullmatch(r"CI\d{7}", read["number"])
    assert (read["status"], read["criticality"], read["owner"], read["attributes"]) == ("planned", 3, None, {})
    assert read["identifiers"] == {"serial": None, "hostname": None, "fqdn": None, "cloud_id": None}
    assert read["version"] == 1
    assert created.headers["location"] == f"{URL}/{read['id']}"
    assert created.headers["etag"] == 'W/"1"'

    fetched = await client.get(created.headers["location"], headers=auth("auditor"))
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == 'W/"1"'
    assert fetched.json() == read


async def test_attributes_and_identifiers_round_trip_with_dns_names_in_lower_case(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    host = unique("Web")
    attributes = {
        "cpu_cores": 8,
        "disks": [{"size_gb": 500, "ssd": True}],
        "platform": {"name": "Debian", "version": "13"},
    }
    body = {
        "name": "web front",
        "type": "virtual_machine",
        "status": "live",
        "criticality": 1,
        "owner": "web-team",
        "attributes": attributes,
        "identifiers": {"serial": "VM-AbC", "hostname": host, "fqdn": f"{host}.Example.com", "cloud_id": "i-0AbC"},
    }
    r = await client.post(URL, json=body, headers=auth("config_manager"))
    assert r.status_code == 201, r.text
    fetched = (await client.get(r.headers["location"], headers=auth("agent"))).json()
    assert fetched["attributes"] == attributes
    assert fetched["identifiers"] == {
        "serial": "VM-AbC",
        "hostname": host.lower(),
        "fqdn": f"{host.lower()}.example.com",
        "cloud_id": "i-0AbC",
    }
    assert (fetched["status"], fetched["criticality"], fetched["owner"]) == ("live", 1, "web-team")


@pytest.mark.parametrize(("role", "status"), [("config_manager", 201), ("admin", 201), ("change_manager", 403)])
async def test_only_configuration_managers_register_cis(
    client: httpx.AsyncClient, auth: Auth, role: str, status: int
) -> None:
    r = await client.post(URL, json={"name": unique("ci"), "type": "server"}, headers=auth(role))
    assert r.status_code == status, r.text


async def test_a_hostname_held_by_a_ci_is_a_409_whatever_its_case_and_writes_nothing(
    client: httpx.AsyncClient, auth: Auth, config_db: str
) -> None:
    host = unique("db")
    holder = (await _create(client, auth, status="live", identifiers={"hostname": host})).json()
    before = await row_counts(config_db, config_item, outbox)
    r = await _create(client, auth, identifiers={"hostname": host.upper()})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["ci_id"] == holder["id"]
    assert holder["number"] in problem["detail"]
    assert await row_counts(config_db, config_item, outbox) == before


async def test_a_retired_ci_does_not_hold_its_hostname(client: httpx.AsyncClient, auth: Auth) -> None:
    host = unique("old")
    assert (await _create(client, auth, status="retired", identifiers={"hostname": host})).status_code == 201
    assert (await _create(client, auth, status="retired", identifiers={"hostname": host})).status_code == 201
    assert (await _create(client, auth, status="live", identifiers={"hostname": host})).status_code == 201


async def test_the_database_refuses_a_second_holder_that_slipped_past_the_check(config_db: str) -> None:
    host = unique("race")

    def item() -> ConfigItem:
        return ConfigItem.register(
            ci_id=uuid.uuid4(),
            number=unique("CI"),
            name="raced",
            ci_type=next(t for t in BUILTIN_TYPES if t.name == "server"),
            status=CIStatus.LIVE,
            criticality=Criticality.LOW,
            owner=None,
            attributes={},
            identifiers=Identifiers(hostname=host),
            now=datetime.now(UTC),
            cause=Cause("manual", "tester"),
        )

    engine = create_engine(config_db)
    try:
        async with engine.connect() as conn:
            items = ConfigItemRepository(conn)
            await items.add(item(), Cause("manual", "tester"))
            with pytest.raises(Conflict):
                await items.add(item(), Cause("manual", "tester"))
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_list_filters_by_type_status_and_part_of_the_name(client: httpx.AsyncClient, auth: Auth) -> None:
    tag = uuid.uuid4().hex[:8]
    router = (await _create(client, auth, name=f"Core Router {tag}", type="network_device", status="live")).json()
    await _create(client, auth, name=f"core router {tag} spare", type="network_device", status="planned")
    await _create(client, auth, name=f"Core DB {tag}", type="database", status="live")

    def get(**params: Any) -> Any:
        return client.get(URL, params={"limit": 200, **params}, headers=auth("auditor"))

    by_name = (await get(q=f"ROUTER {tag}")).json()
    assert sorted(i["name"] for i in by_name["items"]) == [f"Core Router {tag}", f"core router {tag} spare"]
    assert by_name["total"] == 2
    live_routers = (await get(q=tag, type="network_device", status="live")).json()
    assert [i["id"] for i in live_routers["items"]] == [router["id"]]
    assert live_routers["items"][0] == router
    assert {i["type"] for i in (await get(type="database")).json()["items"]} == {"database"}
    assert {i["status"] for i in (await get(status="planned")).json()["items"]} == {"planned"}


async def test_wildcards_in_the_name_search_match_only_themselves(client: httpx.AsyncClient, auth: Auth) -> None:
    tag = uuid.uuid4().hex[:8]
    await _create(client, auth, name=f"quota_100%_{tag}")
    await _create(client, auth, name=f"quota 1000 {tag}")
    found = (await client.get(URL, params={"q": "100%_", "limit": 200}, headers=auth("auditor"))).json()
    assert found["total"] >= 1
    assert all("100%_" in i["name"] for i in found["items"])


async def test_pages_cover_the_list_once_newest_first(client: httpx.AsyncClient, auth: Auth) -> None:
    for _ in range(3):
        await _create(client, auth)
    whole = (await client.get(URL, params={"limit": 200}, headers=auth("auditor"))).json()
    assert [i["created_at"] for i in whole["items"]] == sorted((i["created_at"] for i in whole["items"]), reverse=True)
    paged: list[str] = []
    for offset in range(0, whole["total"], 2):
        page = (await client.get(URL, params={"limit": 2, "offset": offset}, headers=auth("auditor"))).json()
        assert page["total"] == whole["total"] and page["offset"] == offset and len(page["items"]) <= 2
        paged += [i["id"] for i in page["items"]]
    assert paged == [i["id"] for i in whole["items"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "server"}, "name"),
        ({"name": "x", "type": "laptop"}, "type"),
        ({"name": "x", "type": "server", "status": "decommissioned"}, "status"),
        ({"name": "x", "type": "server", "criticality": 0}, "criticality"),
        ({"name": "x", "type": "server", "criticality": 5}, "criticality"),
        ({"name": "x", "type": "server", "attributes": [1, 2]}, "attributes"),
        ({"name": "x", "type": "server", "identifiers": {"hostname": "bad host!"}}, "identifiers.hostname"),
        ({"name": "x", "type": "server", "identifiers": {"mac": "00:11"}}, "identifiers.mac"),
    ],
)
async def test_invalid_input_is_a_422_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, auth: Auth, config_db: str, body: dict[str, Any], field: str
) -> None:
    before = await row_counts(config_db, config_item, outbox)
    r = await client.post(URL, json=body, headers=auth("config_manager"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await row_counts(config_db, config_item, outbox) == before


async def test_a_create_writes_exactly_one_ci_created_event(
    client: httpx.AsyncClient, auth: Auth, config_db: str
) -> None:
    items_before, events_before = await row_counts(config_db, config_item, outbox)
    read = (await _create(client, auth, type="storage", status="live", criticality=2)).json()
    assert await row_counts(config_db, config_item, outbox) == (items_before + 1, events_before + 1)
    [event] = await outbox_events(config_db, outbox, read["id"])
    assert event.type == "itsm.ci.created.v1"
    data = event.data_as(ConfigItemCreated)
    assert (str(data.ci_id), data.number, data.type, data.status, data.criticality) == (
        read["id"],
        read["number"],
        "storage",
        "live",
        2,
    )
