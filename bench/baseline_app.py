"""The baseline: what creating an incident costs on the suite's server stack with nothing else.

FastAPI served by the same uvicorn flags as the suite, one process, on the same PostgreSQL, with
the incident service's own tables (migrated the same way). `POST /api/v1/incidents` reads the
JSON body (no model) and, in one transaction over raw asyncpg, writes the rows the suite writes
(an `incident` row, the same columns filled, the number drawn from the same sequence, and an
`outbox` row holding the same CloudEvent), then answers 201 with the same JSON fields and values
plus `Location` and `ETag`. No validation, no auth, no tracing (so no `traceparent` in the outbox
headers), no relay. tests/bench/test_baseline.py fails when the suite's create and this drift apart.

    BENCH_BASELINE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/db \\
        uv run uvicorn --factory bench.baseline_app:create_app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# impact x urgency -> priority, the same matrix as the domain's (1 critical .. 5 planning)
PRIORITY = {(1, 1): 1, (1, 2): 2, (1, 3): 3, (2, 1): 2, (2, 2): 3, (2, 3): 4, (3, 1): 3, (3, 2): 4, (3, 3): 5}

INSERT_INCIDENT = """
INSERT INTO incident (id, number, title, description, caller, channel, impact, urgency, priority,
                      status, ci_id, opened_at, updated_at, version)
VALUES ($1, 'INC' || lpad(nextval('incident_number_seq')::text, 7, '0'), $2, $3, $4, $5, $6, $7, $8,
        'new', $9, $10, $10, 1)
RETURNING *
"""
INSERT_OUTBOX = """
INSERT INTO outbox (event_id, event_type, routing_key, subject, payload, headers)
VALUES ($1, $2, $3, $4, $5, '{}')
"""
EVENT_TYPE = "itsm.incident.created.v1"
ROUTING_KEY = "incident.created.v1"
# The fields of `itsm.incident.created.v1` after `incident_id`, as the suite's event carries them.
EVENT_FIELDS = (
    "number", "title", "status", "impact", "urgency", "priority", "caller", "ci_id", "opened_at", "channel",
    "category", "subcategory", "service_id", "assignment_group", "supplier_id", "major", "customer_id",
)  # fmt: skip
# What an agent may do with a new incident (`allowed_actions` of the suite's answer).
NEW_INCIDENT_ACTIONS = ["assign", "cancel", "declare_major", "escalate", "override_priority", "resolve", "update"]
JSON_HEADERS = [(b"content-type", b"application/json")]


class BaselineApp:
    def __init__(self, dsn: str, pool_size: int) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            if scope["method"] == "POST" and scope["path"] == "/api/v1/incidents":
                await self._create(receive, send)
            elif scope["path"] == "/healthz":
                await _respond(send, 200, b'{"status":"ok"}')
            else:
                await _respond(send, 404, b'{"detail":"not found"}')

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Same ceiling as the suite's engine: pool_size + max_overflow connections.
                size = self._pool_size
                self._pool = await asyncpg.create_pool(self._dsn, min_size=size, max_size=2 * size)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._pool is not None:
                    await self._pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _create(self, receive: Receive, send: Send) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        out = await write_incident(self._pool, json.loads(body))
        headers = [
            (b"location", f"/api/v1/incidents/{out['id']}".encode()),
            (b"etag", b'W/"1"'),
        ]
        await _respond(send, 201, json.dumps(out).encode(), headers)


async def write_incident(pool: asyncpg.Pool | None, req: dict[str, Any]) -> dict[str, Any]:
    """The rows of a create, in one transaction over raw asyncpg; returns the incident as the suite
    answers it: every column of the row written (`RETURNING *`) and the actions open to an agent."""
    incident_id = uuid.uuid4()
    now = datetime.now(UTC)
    impact, urgency = int(req["impact"]), int(req["urgency"])
    priority = PRIORITY[(impact, urgency)]
    title, description = req["title"], req.get("description", "")
    caller, channel = req["caller"], req.get("channel", "api")
    ci_id = req.get("ci_id")
    assert pool is not None
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            INSERT_INCIDENT, incident_id, title, description, caller, channel, impact, urgency, priority, ci_id, now
        )
        incident = {name: _json_value(value) for name, value in row.items()}
        event_id = str(uuid.uuid4())
        event = {
            "specversion": "1.0",
            "id": event_id,
            "source": "/itsm/incident",
            "type": EVENT_TYPE,
            "time": incident["opened_at"],
            "subject": incident["id"],
            "datacontenttype": "application/json",
            "dataschema": f"https://itsm.example/schemas/{ROUTING_KEY}.json",
            "data": {"incident_id": incident["id"], **{k: incident[k] for k in EVENT_FIELDS}},
        }
        await conn.execute(INSERT_OUTBOX, event_id, EVENT_TYPE, ROUTING_KEY, incident["id"], json.dumps(event))
    return {**incident, "allowed_actions": NEW_INCIDENT_ACTIONS}


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    all_headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


def create_app() -> Any:
    """FastAPI with one route over raw asyncpg (the issue's baseline: the suite's server stack,
    without validation, auth or tracing); `BENCH_BASELINE_KIND=bare` gives the bare ASGI app, a
    floor that leaves out FastAPI too."""
    dsn = os.environ.get("BENCH_BASELINE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    pool_size = int(os.environ.get("BENCH_BASELINE_POOL_SIZE", "10"))
    if os.environ.get("BENCH_BASELINE_KIND") == "bare":
        return BaselineApp(dsn, pool_size=pool_size)
    return fastapi_baseline(dsn, pool_size)


def fastapi_baseline(dsn: str, pool_size: int) -> FastAPI:
    pools: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pools["main"] = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=2 * pool_size)
        yield
        await pools["main"].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/v1/incidents", status_code=201)
    async def create(request: Request, response: Response) -> dict[str, Any]:
        out = await write_incident(pools["main"], await request.json())
        response.headers["Location"] = f"/api/v1/incidents/{out['id']}"
        response.headers["ETag"] = 'W/"1"'
        return out

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
