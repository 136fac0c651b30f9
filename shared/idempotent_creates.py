"""`Idempotency-Key` on every create of every service, mounted by shared.app as middleware.

A service whose metadata has the `idempotency_key` table (`idempotency_table(metadata)` in its
store/tables.py, `create_idempotency_table()` in a migration) gets it on each POST: see
`IdempotentCreates`. A route whose use case claims keys in its own transaction (incident's
`POST /api/v1/incidents`, see shared.idempotency) is named in `ServiceSpec.keys_claimed_by_use_case`
and left to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import current_principal
from shared.errors import Conflict, DomainError, RuleViolation
from shared.http import problem_response
from shared.idempotency import DEFAULT_TTL, HEADER, Idempotency, Replay, StoredResponse, fingerprint

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[\x21-\x7e]+$"}
"""`KEY_PATTERN` as the OpenAPI document states it (the same as shared.idempotency's route parameter)."""
PENDING_FOR = timedelta(minutes=2)
"""How long a claimed key waits for its request's answer; past it (the process died) the key is new."""
WAIT_FOR_FIRST_S = 30.0
"""How long a request waits for another in flight with its key before answering 409."""
KEPT_HEADERS = ("location", "etag")


class IdempotentCreates:
    """`Idempotency-Key` on every create of a service (shared.app mounts it on every app whose
    metadata has the `idempotency_key` table): a POST with the header is claimed under the caller's
    subject, method and path before the route runs; a 201 answer is remembered and answered again
    (`Idempotent-Replayed: true`) to a retry with the same key and body; any other answer frees the
    key. A second request while the first is in flight waits for it. The claim is its own
    transaction (unlike a use case's `IdempotentCreate`): if the process dies between the create and
    remembering it, the key answers 409 until `PENDING_FOR` has passed."""

    def __init__(
        self, app: ASGIApp, table: Table, ttl: timedelta = DEFAULT_TTL, claimed_elsewhere: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.store = Idempotency(table, ttl=ttl)
        # Paths whose use case claims the key in the create's own transaction: claiming it here too
        # would cost a second transaction for the same guarantee, only weaker.
        self.claimed_elsewhere = frozenset(claimed_elsewhere)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in self.claimed_elsewhere:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = request.headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not KEY_PATTERN.match(key):
            reason = "1 to 200 printable ASCII characters, no spaces (a UUID)"
            await _problem(422, "Invalid request", reason, "validation", request, errors=[_naming(reason)])(
                scope, receive, send
            )
            return
        try:
            principal = await current_principal(request)
        except DomainError:
            await self.app(scope, receive, send)  # the route answers its 401
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        engine: AsyncEngine = request.app.state.runtime.engine
        claim = _Claim(self.store, _scope_of(principal.subject, scope["path"]), key, _fingerprint_of(body))
        try:
            stored = await claim.take(engine)
        except RuleViolation as exc:
            await _problem(422, "Business rule violated", exc.detail, "rule-violation", request, **exc.extensions)(
                scope, receive, send
            )
            return
        except Conflict as exc:
            await _problem(409, "Conflict", exc.detail, "conflict", request)(scope, receive, send)
            return
        if stored is not None:
            await Replay(stored).response()(scope, receive, send)
            return

        async def replay_body() -> Message:
            return messages.pop(0) if messages else await receive()

        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await claim.settle(engine, start, b"".join(chunks))


def document_parameter() -> dict[str, Any]:
    """The optional header as an OpenAPI parameter, for each create this middleware covers (shared.app)."""
    return {
        "name": HEADER,
        "in": "header",
        "required": False,
        "schema": {**KEY_SCHEMA, "title": HEADER},
        "description": (
            "A key of your choosing (a UUID; 1 to 200 printable ASCII characters, no spaces). A retry by the same"
            f" caller with the same key and body within {DEFAULT_TTL.total_seconds() / 3600:g} hours answers the"
            " first 201 again (same body, `Location` and `ETag`, with `Idempotent-Replayed: true`) instead of"
            " creating twice; the same key with another body answers 422; a retry while the first is in flight"
            f" waits for it (409 after {WAIT_FOR_FIRST_S:g} s). An answer other than 201 frees the key."
        ),
    }


def _naming(reason: str) -> dict[str, str]:
    return {"field": HEADER, "reason": reason}


def _problem(status: int, title: str, detail: str, slug: str, request: Request, **extensions: Any) -> JSONResponse:
    return problem_response(status, title, detail, slug=slug, instance=request.url.path, **extensions)


def _fingerprint_of(body: bytes) -> str:
    try:
        return fingerprint(json.loads(body)) if body else fingerprint(None)
    except ValueError:
        return hashlib.sha256(body).hexdigest()


@dataclass
class _Claim:
    store: Idempotency
    scope: str
    key: str
    fingerprint: str

    async def take(self, engine: AsyncEngine) -> StoredResponse | None:
        """None: ours (go on); the stored first response; RuleViolation (another body) or Conflict."""
        t = self.store.table
        where = (t.c.scope == self.scope) & (t.c.key == self.key)
        deadline = asyncio.get_running_loop().time() + WAIT_FOR_FIRST_S
        while True:
            now = datetime.now(UTC)
            async with engine.begin() as conn:
                values = {"scope": self.scope, "key": self.key, "fingerprint": self.fingerprint}
                claimed = await conn.execute(self.store._claim, {**values, "now": now, "expires_at": now + PENDING_FOR})
                if claimed.first() is not None:
                    return None
                row = (await conn.execute(select(t).where(where))).first()
                if row is None or row.expires_at <= now:
                    taken = await conn.execute(
                        update(t)
                        .where(where & (t.c.expires_at <= now))
                        .values(
                            fingerprint=self.fingerprint,
                            status_code=0,
                            body=None,
                            headers={},
                            created_at=now,
                            expires_at=now + PENDING_FOR,
                        )
                    )
                    if row is not None and taken.rowcount == 1:
                        return None
                elif row.fingerprint != self.fingerprint:
                    raise RuleViolation(
                        f"the {HEADER} {self.key!r} was used with another request body; use a new key for a new"
                        " request",
                        field=HEADER,
                    )
                elif row.status_code != 0:
                    return StoredResponse(row.status_code, row.body, dict(row.headers))
            if asyncio.get_running_loop().time() > deadline:
                raise Conflict(f"a request with the {HEADER} {self.key!r} is still in progress; retry later")
            await asyncio.sleep(0.05)

    async def settle(self, engine: AsyncEngine, start: Message, body: bytes) -> None:
        """Remember a 201 answer; free the key after any other."""
        t = self.store.table
        where = (t.c.scope == self.scope) & (t.c.key == self.key) & (t.c.status_code == 0)
        stored: Any = None
        if start.get("status") == 201:
            try:
                stored = json.loads(body)
            except ValueError:
                stored = None
        async with engine.begin() as conn:
            if stored is None:
                await conn.execute(delete(t).where(where))
                return
            raw_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
            headers = {name: raw_headers[name] for name in KEPT_HEADERS if name in raw_headers}
            now = datetime.now(UTC)
            await conn.execute(
                update(t)
                .where(where)
                .values(status_code=201, body=stored, headers=headers, expires_at=now + self.store.ttl)
            )


def _scope_of(subject: str, path: str) -> str:
    """The caller and the route, apart from the scopes of use cases that claim keys themselves."""
    scope = f"http {subject} POST {path}"
    return scope if len(scope) <= 300 else "http " + hashlib.sha256(scope.encode()).hexdigest()
