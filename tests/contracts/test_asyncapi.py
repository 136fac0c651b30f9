"""The AsyncAPI 3.0 document of the event stream: generated from the event contracts, served in
parts by every service, kept current in docs/, and accepted by the AsyncAPI project's own parser.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import jsonschema
import pytest
import pytest_asyncio
from polyfactory.factories.pydantic_factory import ModelFactory

from itsm.catalogue import (
    ASYNCAPI,
    ASYNCAPI_VIEW,
    asyncapi_json,
    asyncapi_markdown,
    consumers_of,
    suite_asyncapi,
)
from itsm.registry import SERVICE_NAMES, entry
from shared.events import EVENT_TYPES, EventData, new_event
from shared.events.asyncapi import event_types_in, topic_matches

PARSER = Path(__file__).resolve().parents[2] / "tools" / "asyncapi"


def _operations(document: dict[str, Any], action: str, key: str) -> set[str]:
    return {
        tag["name"]
        for op in document["operations"].values()
        if op["action"] == action and op["channel"]["$ref"] == f"#/channels/{key}"
        for tag in op["tags"]
    }


def test_every_event_type_is_a_channel_with_its_message_sender_and_receivers() -> None:
    document = suite_asyncapi()
    assert event_types_in(document) == set(EVENT_TYPES)
    assert set(document["channels"]) == set(EVENT_TYPES)
    for key, cls in EVENT_TYPES.items():
        assert _operations(document, "send", key) == set(cls.producers()), key
        assert _operations(document, "receive", key) == set(consumers_of(key)), key
        message = document["components"]["messages"][cls.__name__]
        assert message["bindings"]["amqp"]["messageType"] == cls.event_type()
        payload = message["payload"]["allOf"][1]["properties"]
        assert payload["data"] == {"$ref": f"#/components/schemas/{key}"}
        assert payload["dataschema"] == {"const": cls.schema_uri()}
        assert document["channels"][key]["bindings"]["amqp"]["exchange"] == {
            "name": "itsm.events",
            "type": "topic",
            "durable": True,
            "autoDelete": False,
        }


def test_the_published_document_and_its_view_are_the_generated_ones() -> None:
    document = suite_asyncapi()
    assert ASYNCAPI.read_text() == asyncapi_json(document), "run `make catalogue`"
    assert ASYNCAPI_VIEW.read_text() == asyncapi_markdown(document), "run `make catalogue`"


@pytest.fixture
def an_added_event_type() -> Iterator[str]:
    class ProblemArchived(EventData):
        routing_key: ClassVar[str] = "problem.archived.v1"
        producer: ClassVar[str] = "incident"
        number: str

    yield ProblemArchived.routing_key
    del EVENT_TYPES[ProblemArchived.routing_key]


def test_an_event_type_added_without_appearing_in_the_document_is_caught(an_added_event_type: str) -> None:
    published = json.loads(ASYNCAPI.read_text())
    assert set(EVENT_TYPES) - event_types_in(published) == {an_added_event_type}
    assert an_added_event_type in event_types_in(suite_asyncapi())
    without_its_sender = copy.deepcopy(suite_asyncapi())
    del without_its_sender["operations"][f"incident.sends.{an_added_event_type}"]
    assert an_added_event_type not in event_types_in(without_its_sender)


@pytest.mark.parametrize(
    ("pattern", "key", "routed"),
    [
        ("#", "incident.created.v1", True),
        ("incident.#", "incident.created.v1", True),
        ("incident.*.v1", "incident.created.v1", True),
        ("incident.*", "incident.created.v1", False),
        ("incident.created.v1", "incident.created.v1", True),
        ("incident.created.v1", "incident.closed.v1", False),
        ("#.v1", "ci.updated.v1", True),
        ("change.#", "incident.created.v1", False),
    ],
)
def test_receivers_are_found_as_the_topic_exchange_routes(pattern: str, key: str, routed: bool) -> None:
    assert topic_matches(pattern, key) is routed


async def _served(service: str) -> tuple[httpx.Response, dict[str, Any]]:
    settings = entry(service).settings(environment="test", database_url="sqlite+aiosqlite:///:memory:")
    app = importlib.import_module(f"services.{service}.app").create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/asyncapi.json"), app.openapi()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served_documents() -> dict[str, dict[str, Any]]:
    documents = {}
    for service in SERVICE_NAMES:
        response, openapi = await _served(service)
        assert response.status_code == 200, f"{service}: /asyncapi.json is public, like /openapi.json"
        assert "/asyncapi.json" not in openapi["paths"]
        documents[service] = response.json()
    return documents


@pytest.mark.asyncio(loop_scope="session")
async def test_each_service_serves_its_own_part(served_documents: dict[str, dict[str, Any]]) -> None:
    for service, document in served_documents.items():
        handlers = entry(service).spec.handlers
        sent = {k for k, cls in EVENT_TYPES.items() if service in cls.producers()}
        received = {k for k in EVENT_TYPES if any(topic_matches(p, k) for p in handlers)}
        assert set(document["channels"]) == sent | received, service
        assert {k for k in EVENT_TYPES if _operations(document, "send", k)} == sent, service
        assert {k for k in EVENT_TYPES if _operations(document, "receive", k)} == received, service
        assert document["info"]["tags"] == [{"name": service}]


def test_the_asyncapi_parser_accepts_the_documents(served_documents: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    """`@asyncapi/parser` (tools/asyncapi, pinned by its lockfile) reports no error for the suite's
    document nor any service's; a document with a dangling reference shows the check bites."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("no Node.js on this machine (apt-get install nodejs npm): the AsyncAPI parser cannot run")
    if not (PARSER / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=PARSER, check=True, timeout=300
        )
    broken = copy.deepcopy(suite_asyncapi())
    next(iter(broken["operations"].values()))["channel"] = {"$ref": "#/channels/no.such.channel.v1"}
    files = {"suite": suite_asyncapi(), **served_documents, "broken": broken}
    for name, document in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
    run = subprocess.run(
        ["node", PARSER / "check.mjs", *(tmp_path / f"{name}.json" for name in files)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    diagnostics = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert diagnostics or run.returncode == 0, run.stderr
    errors = [d for d in diagnostics if d["severity"] == 0]
    assert [d for d in errors if Path(d["file"]).stem != "broken"] == [], "the AsyncAPI parser reports errors"
    assert "invalid-ref" in {d["code"] for d in errors}
    assert run.returncode == 1


def test_every_message_schema_accepts_an_event_as_the_suite_sends_it() -> None:
    document = suite_asyncapi()
    for key, contract in EVENT_TYPES.items():
        data = ModelFactory.create_factory(contract, __random_seed__=7).build()
        wire = json.loads(new_event(data, source="/itsm/contract-test", subject="s").model_dump_json())
        # The document is the root, so the message's references resolve inside it.
        payload = jsonschema.Draft202012Validator(
            {**document, "$ref": f"#/components/messages/{contract.__name__}/payload"}
        )
        payload.validate(wire)
        assert not payload.is_valid(wire | {"type": "itsm.other.v1"}), key
        assert not payload.is_valid(wire | {"data": "not an object"}), key
