"""The `itsm` command line, where it needs no running service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from itsm.cli import app
from itsm.registry import entry
from itsm.supervisor import service_command
from shared.auth import TokenVerifier
from shared.events import EVENT_TYPES

SECRET = "cli-test-secret-0123456789abcdef012345"


def test_up_without_a_broker_says_so_in_one_line_and_exits_non_zero() -> None:
    result = CliRunner().invoke(app, ["up"], env={"ITSM_AMQP_URL": "amqp://guest:guest@127.0.0.1:9/"})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "RabbitMQ is not reachable" in lines[0]
    assert "rabbitmq-server -detached" in lines[0]


def test_token_mints_a_token_the_services_accept() -> None:
    result = CliRunner().invoke(
        app, ["token", "dana", "--role", "agent", "--role", "auditor"], env={"ITSM_JWT_SECRET": SECRET}
    )
    assert result.exit_code == 0, result.output
    principal = asyncio.run(TokenVerifier(secret=SECRET).verify(result.output.strip()))
    assert principal.subject == "dana"
    assert principal.roles == frozenset({"agent", "auditor"})


def test_token_refuses_a_lifetime_the_services_would_refuse() -> None:
    result = CliRunner().invoke(
        app, ["token", "dana", "--role", "agent", "--hours", "48"], env={"ITSM_JWT_MAX_LIFETIME_HOURS": "24"}
    )
    assert result.exit_code != 0
    assert "ITSM_JWT_MAX_LIFETIME_HOURS" in result.output


def test_token_refuses_an_unknown_role() -> None:
    result = CliRunner().invoke(app, ["token", "dana", "--role", "wizard"])
    assert result.exit_code != 0


def test_events_prints_the_catalogue() -> None:
    result = CliRunner().invoke(app, ["events"])
    assert result.exit_code == 0
    assert "`incident.created.v1`" in result.output
    assert "reporting" in result.output


def test_migrate_creates_a_service_database(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/incident.db"
    result = CliRunner().invoke(app, ["migrate", "incident"], env={"INCIDENT_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "incident: migrated" in result.output
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(f"{tmp_path}/incident.db").execute("select name from sqlite_master")}
    assert {"incident", "outbox", "inbox", "alembic_version"} <= tables


def test_dashboard_prints_the_address_with_a_read_only_token_in_its_fragment() -> None:
    result = CliRunner().invoke(app, ["dashboard", "--host", "10.0.0.5"], env={"ITSM_JWT_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    address, _, token = result.output.strip().partition("/#token=")
    assert address == "http://10.0.0.5:8005"
    principal = asyncio.run(TokenVerifier(secret=SECRET).verify(token))
    assert principal.roles == frozenset({"auditor"})


def test_repair_of_an_unknown_service_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["repair", "payroll"])
    assert result.exit_code == 2
    assert "payroll" in result.output


def test_the_container_images_serve_a_service_as_itsm_up_does() -> None:
    """Through `itsm serve`, which applies the request-head limits (a bare uvicorn would not)."""
    dockerfile = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"
    commands = [line for line in dockerfile.read_text().splitlines() if line.startswith("CMD ")]
    assert commands == ['CMD exec itsm serve "${SERVICE:?SERVICE is not set}" --host 0.0.0.0 --port "${PORT}"']
    assert service_command(entry("incident"), host="h", port=1)[1:4] == ["-m", "itsm", "serve"]


def test_serve_refuses_an_unknown_service() -> None:
    result = CliRunner().invoke(app, ["serve", "wizardry"])
    assert result.exit_code == 2
    assert "unknown service" in result.output


def test_events_asyncapi_prints_the_suites_document_or_writes_it(tmp_path: Path) -> None:
    printed = CliRunner().invoke(app, ["events", "--asyncapi"], env={"ITSM_EVENTS_EXCHANGE": "ops.events"})
    assert printed.exit_code == 0, printed.output
    document = json.loads(printed.output)
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == set(EVENT_TYPES)
    exchanges = {c["bindings"]["amqp"]["exchange"]["name"] for c in document["channels"].values()}
    assert exchanges == {"ops.events"}
    written = CliRunner().invoke(app, ["events", "--asyncapi", str(tmp_path / "asyncapi.json")])
    assert written.exit_code == 0, written.output
    assert json.loads((tmp_path / "asyncapi.json").read_text())["channels"].keys() == document["channels"].keys()


def test_events_refuses_a_file_without_asyncapi(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["events", str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert not (tmp_path / "x.json").exists()


def test_status_without_a_running_suite_says_every_service_is_down_and_exits_non_zero(tmp_path: Path) -> None:
    """A state file a supervisor that died left behind is not believed."""
    import json
    import socket

    from itsm.suite_state import ServiceState, SuiteState

    with socket.socket() as s:  # a process id no process has: this one's, once it is gone
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    state_file = tmp_path / "up.json"
    dead = SuiteState(
        pid=2**22 + 1, started_at=0, services={"incident": ServiceState(name="incident", host="h", port=1)}
    )
    dead.write(state_file)
    env = {
        "ITSM_UP_STATE_FILE": str(state_file),
        "ITSM_AMQP_URL": "amqp://guest:guest@127.0.0.1:9/",
        "ITSM_AMQP_MANAGEMENT_URL": "",
        **{
            f"{name.upper()}_PORT": str(free_port)
            for name in ("incident", "change", "config", "supplier", "reporting", "notify")
        },
    }
    result = CliRunner().invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 1, result.output
    status = json.loads(result.output)
    assert status["supervisor"] is None
    assert status["queue_source"].startswith("broker unreachable")
    assert [(s["name"], s["state"], s["port"], s["restarts"]) for s in status["services"]] == [
        (name, "down", free_port, None) for name in ("incident", "change", "config", "supplier", "reporting", "notify")
    ]

    table = CliRunner().invoke(app, ["status"], env=env)
    assert table.exit_code == 1
    assert "no `itsm up` runs here" in table.output


def test_up_refuses_to_start_a_second_suite_where_one_runs(tmp_path: Path) -> None:
    import os

    from itsm.suite_state import SuiteState

    state_file = tmp_path / "up.json"
    SuiteState(pid=os.getpid(), started_at=0, services={}).write(state_file)  # a live supervisor
    result = CliRunner().invoke(app, ["up"], env={"ITSM_UP_STATE_FILE": str(state_file)})
    assert result.exit_code == 2
    assert f"itsm up (pid {os.getpid()}) already runs here" in result.output
