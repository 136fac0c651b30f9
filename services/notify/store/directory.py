"""The directory notify owns: people (address, groups, roles, the suppliers and customers they
speak for, locale, time zone), kept by administrators through the API, read when a rule's
recipients are resolved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.domain.recipients import Person
from services.notify.store.tables import directory_person
from shared.db import page, upsert_statement

P = directory_person
MAX_PEOPLE = 10_000
"""People read at most to resolve one event's recipients (a directory is a desk's staff)."""


def person_of(row: Any) -> Person:
    return Person(
        username=row.username,
        address=row.address,
        name=row.name,
        groups=tuple(row.groups),
        roles=tuple(row.roles),
        suppliers=tuple(row.suppliers),
        customers=tuple(row.customers),
        locale=row.locale,
        time_zone=row.time_zone,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        digest=row.digest,
    )


async def everyone(conn: AsyncConnection) -> list[Person]:
    rows = await conn.execute(select(P).order_by(P.c.username).limit(MAX_PEOPLE))
    return [person_of(r) for r in rows]


async def get_person(conn: AsyncConnection, username: str) -> Any | None:
    return (await conn.execute(select(P).where(P.c.username == username))).first()


async def list_people(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[Any], int]:
    return await page(conn, select(P), P.c.username, limit=limit, offset=offset)


async def put_person(conn: AsyncConnection, person: Person, actor: str, now: datetime) -> None:
    """Insert or replace the person with this user name."""
    values = {
        "username": person.username,
        "name": person.name,
        "address": person.address,
        "groups": list(person.groups),
        "roles": list(person.roles),
        "suppliers": list(person.suppliers),
        "customers": list(person.customers),
        "locale": person.locale,
        "time_zone": person.time_zone,
        "quiet_start": person.quiet_start,
        "quiet_end": person.quiet_end,
        "digest": person.digest,
        "updated_by": actor,
        "updated_at": now,
    }
    await conn.execute(upsert_statement(P, values, key=["username"]), values)


async def delete_person(conn: AsyncConnection, username: str) -> bool:
    return bool((await conn.execute(delete(P).where(P.c.username == username))).rowcount)
