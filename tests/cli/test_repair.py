"""`itsm repair` on records earlier versions stored and the current code cannot read back: the
broken values are written with SQL, as those versions left them; the API fails on them; a dry run
finds them and exits 1; `--apply` fixes them with evidence, and the API answers again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner, Result

from itsm.cli import app as itsm
from services.change.app import create_app as create_change
from services.change.settings import ChangeSettings
from services.change.store.tables import change_template
from services.config.app import SPEC as CONFIG
from services.config.app import create_app as create_config
from services.config.settings import ConfigSettings
from services.config.store.tables import ci_type, config_item
from services.incident.app import SPEC as INCIDENT
from services.incident.app import create_app as create_incident
from services.incident.settings import IncidentSettings
from services.incident.store.tables import problem
from shared.db import create_engine
from shared.events.config import ConfigItemUpdated
from shared.events.incident import ProblemUpdated
from shared.json_limits import MAX_JSON_BYTES, MAX_JSON_DEPTH
from shared.migrations import upgrade
from shared.repair import CUT_MARKER, REPAIR_ACTOR, REPLACED_KEY
from tests.infra import Servers, create_service_database, outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
FreshDatabase = Callable[[str], Awaitable[str]]


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_database(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> FreshDatabase:
    async def make(service: str) -> str:
        if request.param == "postgresql":
            return await create_service_database(servers, service, label=f"repair{uuid.uuid4().hex[:8]}")
        url = f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
        await asyncio.to_thread(upgrade, service, url)
        return url

    return make


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process; a failure inside it is its 500 answer, not an exception in the test."""
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def write(database_url: str, *statements: Any) -> None:
    """What an earlier version left in the database, written behind the API's back."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(statement)
    finally:
        await engine.dispose()


async def itsm_repair(service: str, database_url: str, *options: str) -> Result:
    env = {f"{service.upper()}_DATABASE_URL": database_url, "ITSM_ENVIRONMENT": "test"}
    return await asyncio.to_thread(lambda: CliRunner().invoke(itsm, ["repair", service, *options], env=env))


async def test_ci_attributes_too_deep_too_large_or_null_are_found_and_repaired(
    fresh_database: FreshDatabase, make_settings: Callable[..., Any], auth: Auth
) -> None:
    db = await fresh_database("config")
    manager, auditor = auth("config_manager"), auth("auditor")
    async with serving(create_config(make_settings(ConfigSettings, db, run_worker=False))) as client:
        cis = {}
        for name in ("deep", "large", "null", "sound"):
            r = await client.post("/api/v1/cis", json={"name": name, "type": "server"}, headers=manager)
            assert r.status_code == 201, r.text
            cis[name] = r.json()
        await write(
            db,
            update(config_item).where(config_item.c.id == uuid.UUID(cis["deep"]["id"])).values(attributes=nested(300)),
            update(config_item)
            .where(config_item.c.id == uuid.UUID(cis["large"]["id"]))
            .values(attributes={"blob": "x" * (MAX_JSON_BYTES + 1)}),
            update(config_item).where(config_item.c.id == uuid.UUID(cis["null"]["id"])).values(attributes=None),
            ci_type.insert().values(
                name="legacy",
                label="Legacy",
                attribute_schema={"type": "object", "$defs": nested(300)},
                created_at=datetime.now(UTC),
                created_by="tester",
            ),
        )
        deep_ci = f"/api/v1/cis/{cis['deep']['id']}"

        assert (await client.get("/api/v1/cis", headers=auditor)).status_code == 500
        patched = await client.patch(deep_ci, json={"name": "deeper"}, headers={**manager, "If-Match": 'W/"1"'})
        assert patched.status_code == 500
        assert (await client.get("/api/v1/ci-types", headers=auditor)).status_code == 500

        dry = await itsm_repair("config", db)
        assert dry.exit_code == 1, dry.output
        for name in ("deep", "large", "null"):
            assert cis[name]["number"] in dry.output
        assert cis["sound"]["number"] not in dry.output
        assert "ci_type legacy" in dry.output
        assert (await client.get("/api/v1/cis", headers=auditor)).status_code == 500  # a dry run changes nothing

        applied = await itsm_repair("config", db, "--apply")
        assert applied.exit_code == 0, applied.output
        assert "4 record(s) repaired, 0 left" in applied.output
        again = await itsm_repair("config", db)
        assert again.exit_code == 0, again.output
        assert "nothing to repair" in again.output

        listed = await client.get("/api/v1/cis", headers=auditor)
        assert listed.status_code == 200, listed.text
        shown = {ci["number"]: ci for ci in listed.json()["items"]}
        deep, large, null, sound = (shown[cis[name]["number"]] for name in ("deep", "large", "null", "sound"))
        branch = deep["attributes"]
        for _ in range(MAX_JSON_DEPTH - 1):
            branch = branch["a"]
        assert branch == {"a": CUT_MARKER}
        assert REPLACED_KEY in large["attributes"]
        assert null["attributes"] == {}
        assert sound["version"] == 1
        assert (await client.get("/api/v1/ci-types", headers=auditor)).status_code == 200
        of_legacy = {"name": "old-box", "type": "legacy", "attributes": {"rack": 4}}
        assert (await client.post("/api/v1/cis", json=of_legacy, headers=manager)).status_code == 201

        # The PATCH that answered 500 had been stored (only its answer failed): the repair came after it.
        assert deep["version"] == 3
        patched = await client.patch(deep_ci, json={"name": "deepest"}, headers={**manager, "If-Match": 'W/"3"'})
        assert patched.status_code == 200, patched.text
        history = (await client.get(f"{deep_ci}/history", headers=auditor)).json()["items"]
        repair_version = next(v for v in history if v["version"] == 3)
        assert repair_version["actor"] == REPAIR_ACTOR
        assert "nested deeper" in repair_version["changes"]["attributes"]["old"]
    announced = await outbox_events(db, CONFIG.outbox, cis["deep"]["id"])
    assert [e.type for e in announced][-2:] == [ConfigItemUpdated.event_type()] * 2
    assert announced[-2].data["cause"]["actor"] == REPAIR_ACTOR


async def test_the_schema_refuses_null_in_required_text_so_a_patch_to_null_stored_nothing(
    fresh_database: FreshDatabase,
) -> None:
    """Why a NULL in required text needs a database changed by hand: every migration declares those
    columns NOT NULL, so earlier versions' PATCH to null failed (500) and stored nothing."""
    db = await fresh_database("change")
    with pytest.raises(IntegrityError, match=r"(?i)not null|null value"):
        await write(db, change_template.insert().values(template_row(description=None)))


def template_row(**values: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    row = {"id": uuid.uuid4(), "name": "Patch", "description": "", "implementation_plan": "Patch it"}
    row |= {"backout_plan": "Roll back", "test_plan": "", "default_duration_s": 3600, "active": True}
    return row | {"created_by": "tester", "created_at": now, "updated_at": now, "version": 1} | values


@pytest.fixture
async def postgresql_database(servers: Servers) -> Callable[[str], Awaitable[str]]:
    async def make(service: str) -> str:
        return await create_service_database(servers, service, label=f"repair{uuid.uuid4().hex[:8]}")

    return make


async def test_a_problem_with_a_null_workaround_is_repaired_with_history_and_an_event(
    postgresql_database: Callable[[str], Awaitable[str]], make_settings: Callable[..., Any], auth: Auth
) -> None:
    db = await postgresql_database("incident")
    pm = auth("problem_manager")
    async with serving(create_incident(make_settings(IncidentSettings, db, run_worker=False))) as client:
        created = await client.post("/api/v1/problems", json={"title": "VPN drops"}, headers=pm)
        assert created.status_code == 201, created.text
        record = created.json()
        # A database restored without the constraint (PostgreSQL here: SQLite cannot drop one).
        await write(
            db,
            text("ALTER TABLE problem ALTER COLUMN workaround DROP NOT NULL"),
            update(problem).where(problem.c.id == uuid.UUID(record["id"])).values(workaround=None),
        )
        path = f"/api/v1/problems/{record['id']}"
        assert (await client.get(path, headers=pm)).status_code == 500

        dry = await itsm_repair("incident", db)
        assert dry.exit_code == 1, dry.output
        assert record["number"] in dry.output and "workaround" in dry.output
        applied = await itsm_repair("incident", db, "--apply")
        assert applied.exit_code == 0, applied.output

        shown = await client.get(path, headers=pm)
        assert shown.status_code == 200, shown.text
        assert shown.json()["workaround"] == ""
        patched = await client.patch(path, json={"workaround": "Reconnect"}, headers={**pm, "If-Match": 'W/"2"'})
        assert patched.status_code == 200, patched.text
        history = (await client.get(f"{path}/history", headers=pm)).json()
        repaired = next(h for h in history if h["version"] == 2)
        assert (repaired["actor"], repaired["field"], repaired["old"], repaired["new"]) == (
            REPAIR_ACTOR,
            "workaround",
            None,
            "",
        )
        assert "NULL" in repaired["reason"]
    announced = await outbox_events(db, INCIDENT.outbox, record["id"])
    assert announced[1].type == ProblemUpdated.event_type()
    assert announced[1].data["changes"] == {"workaround": [None, ""]}


async def test_a_template_with_a_null_description_is_repaired(
    postgresql_database: Callable[[str], Awaitable[str]], make_settings: Callable[..., Any], auth: Auth
) -> None:
    db = await postgresql_database("change")
    manager = auth("change_manager")
    body = {"name": "Rotate certificates", "implementation_plan": "Rotate them", "backout_plan": "Put them back"}
    async with serving(create_change(make_settings(ChangeSettings, db, run_worker=False))) as client:
        created = await client.post("/api/v1/templates", json=body, headers=manager)
        assert created.status_code == 201, created.text
        template_id = created.json()["id"]
        await write(
            db,
            text("ALTER TABLE change_template ALTER COLUMN description DROP NOT NULL"),
            update(change_template).where(change_template.c.id == uuid.UUID(template_id)).values(description=None),
        )
        path = f"/api/v1/templates/{template_id}"
        assert (await client.get(path, headers=manager)).status_code == 500

        dry = await itsm_repair("change", db)
        assert dry.exit_code == 1, dry.output
        assert "Rotate" in dry.output and "description" in dry.output
        assert (await itsm_repair("change", db, "--apply")).exit_code == 0

        shown = await client.get(path, headers=manager)
        assert shown.status_code == 200, shown.text
        assert (shown.json()["description"], shown.json()["version"]) == ("", 2)
        patched = await client.patch(path, json={"description": "Yearly"}, headers={**manager, "If-Match": 'W/"2"'})
        assert patched.status_code == 200, patched.text
