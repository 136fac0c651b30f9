"""`Idempotency-Key` on creates: a client retry never creates twice.

A create route that takes the header hands the use case an `IdempotentCreate`; the use case
claims the key in its own transaction, before it writes anything, and stores the response it
answers with in that same transaction:

    idempotency = Idempotency(idempotency_table(metadata))       # store.py (+ the migration:
                                                                   # create_idempotency_table())
    # use case, inside `async with uow:`
    if once is not None and (replay := await once.claim(uow.connection)) is not None:
        return replay                                            # nothing written, no event
    ... create, emit ...
    if once is not None:
        await once.remember(uow.connection, record)              # same transaction
    await uow.commit()
    # route
    key: IdempotencyKeyHeader = None
    once = idempotency.create_once(key, who.subject, "POST /api/v1/incidents", body, render)
    result = await usecases.open_incident(cmd, uow, once=once)
    if isinstance(result, Replay): return result.response()

The same key with the same body (compared as validated, so key order and spacing do not
matter) gets the first response again: same status, body and headers, plus
`Idempotent-Replayed: true`. The same key with another body is a 422 naming `Idempotency-Key`.
Keys belong to the caller (the token's subject) and the route, and expire after `ttl`; an expired
key is a new one. Two requests with one key at the same moment: the second one's insert waits
for the first transaction (unique key), then replays its response; when the first one failed
(nothing committed) the second one goes on as the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import UtcDateTime
from shared.errors import RuleViolation
from shared.periodic import JobContext, PeriodicJob

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
DEFAULT_TTL = timedelta(hours=24)

T = TypeVar("T")

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="A key of your choosing (a UUID): a retry with the same key and body answers the first"
        " response again instead of creating twice.",
    ),
]
"""The header as a route parameter: `key: IdempotencyKeyHeader = None`."""


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_key",
        metadata,
        Column("scope", String(300), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("body", JSON, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("expires_at", UtcDateTime, nullable=False, index=True),
    )


def create_idempotency_table() -> None:
    """In the migration of a service that mounts `idempotency_table`."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "idempotency_key",
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_key")),
    )
    op.create_index(op.f("ix_idempotency_key_expires_at"), "idempotency_key", ["expires_at"])


def drop_idempotency_table() -> None:
    from alembic import op

    op.drop_table("idempotency_key")


def fingerprint(body: BaseModel | Any) -> str:
    """The request as validated, in a canonical JSON form, hashed."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else jsonable_encoder(body)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Replay:
    """The response stored under the key, answered again."""

    stored: StoredResponse

    def response(self) -> JSONResponse:
        headers = {**self.stored.headers, REPLAYED_HEADER: "true"}
        return JSONResponse(self.stored.body, status_code=self.stored.status_code, headers=headers)


class Idempotency:
    """A service's idempotency keys (one table); `ttl` is how long a key is remembered."""

    def __init__(self, table: Table, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self.table = table
        self.ttl = ttl
        t = table
        # Plain SQL that PostgreSQL and SQLite both take (as the inbox's claim).
        self._claim = text(
            f"INSERT INTO {t.name} (scope, key, fingerprint, status_code, body, headers, created_at, expires_at)"
            " VALUES (:scope, :key, :fingerprint, 0, 'null', '{}', :now, :expires_at)"
            " ON CONFLICT DO NOTHING RETURNING key"
        ).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("expires_at", type_=UtcDateTime()))

    def create_once(
        self,
        key: str | None,
        *,
        caller: str,
        route: str,
        body: BaseModel | Any,
        render: Callable[[T], StoredResponse],
        ttl: timedelta | None = None,
    ) -> IdempotentCreate[T] | None:
        """What a route hands its use case: None without a key (nothing to remember)."""
        if key is None:
            return None
        return IdempotentCreate(self, f"{caller} {route}", key, fingerprint(body), render, ttl or self.ttl)

    async def purge_expired(self, conn: AsyncConnection, now: datetime) -> int:
        """Forget keys past their expiry (a periodic job; an expired key is never replayed anyway)."""
        result = await conn.execute(delete(self.table).where(self.table.c.expires_at <= now))
        return int(result.rowcount or 0)


@dataclass(frozen=True)
class IdempotentCreate(Generic[T]):
    """One create request under a key; the use case calls `claim`, then `remember`."""

    store: Idempotency
    scope: str
    key: str
    fingerprint: str
    render: Callable[[T], StoredResponse]
    ttl: timedelta

    async def claim(self, conn: AsyncConnection, now: datetime | None = None) -> Replay | None:
        """None: first use of the key (go on, then `remember`); a `Replay` of the first response;
        or a 422 when the key came with another body."""
        now = now or datetime.now(UTC)
        t = self.store.table
        values = {"scope": self.scope, "key": self.key, "fingerprint": self.fingerprint}
        claimed = await conn.execute(self.store._claim, {**values, "now": now, "expires_at": now + self.ttl})
        if claimed.first() is not None:
            return None
        where = (t.c.scope == self.scope) & (t.c.key == self.key)
        query = select(t).where(where)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None or row.expires_at <= now:
            # Expired (or purged meanwhile): the key starts again.
            if row is None:
                await conn.execute(self.store._claim, {**values, "now": now, "expires_at": now + self.ttl})
            else:
                await conn.execute(
                    update(t)
                    .where(where)
                    .values(
                        fingerprint=self.fingerprint,
                        status_code=0,
                        body=None,
                        headers={},
                        created_at=now,
                        expires_at=now + self.ttl,
                    )
                )
            return None
        if row.fingerprint != self.fingerprint:
            raise RuleViolation(
                f"the {HEADER} {self.key!r} was used with another request body; use a new key for a new request",
                field=HEADER,
            )
        return Replay(StoredResponse(row.status_code, row.body, dict(row.headers)))

    async def remember(self, conn: AsyncConnection, result: T) -> StoredResponse:
        """Store the response to `result` under the key, in the create's transaction."""
        stored = self.render(result)
        t = self.store.table
        await conn.execute(
            update(t)
            .where((t.c.scope == self.scope) & (t.c.key == self.key))
            .values(status_code=stored.status_code, body=jsonable_encoder(stored.body), headers=stored.headers)
        )
        return stored


PURGE_JOB = "idempotency-purge"


def purge_job_for(metadata: MetaData, jobs: tuple[PeriodicJob, ...]) -> tuple[PeriodicJob, ...]:
    """The hourly job that forgets expired keys, for a service with the `idempotency_key` table
    whose own jobs do not purge them already (incident's do)."""
    table = metadata.tables.get("idempotency_key")
    if table is None or any(job.name == PURGE_JOB for job in jobs):
        return ()
    keys = Idempotency(table)

    async def purge(ctx: JobContext) -> None:
        async with ctx.engine.begin() as conn:
            await keys.purge_expired(conn, ctx.now)

    return (PeriodicJob(PURGE_JOB, purge, lambda _settings: 3600.0),)
