"""Incident persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, Integer, String, Table, Text, Uuid, bindparam, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain import Channel, Impact, Incident, IncidentStatus, Urgency
from shared.db import UtcDateTime, make_metadata
from shared.inbox import inbox_table
from shared.numbering import format_number, next_number, number_sequence_table, postgres_sequence
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)
INCIDENT_NUMBERS = postgres_sequence("incident")

incident = Table(
    "incident",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("caller", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("impact", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", Integer, nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("ci_id", Uuid, index=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)


NUMBER_PREFIX = "INC"

# Inserts are constant statements with the row as parameters: SQLAlchemy finds them compiled in
# its cache, instead of building and cache-keying a new `insert().values(...)` for every row.
_INSERT_INCIDENT = incident.insert()


def _numbered_insert() -> Any:
    """PostgreSQL: insert an incident and draw its number from the sequence in one statement,
    `INSERT INTO incident (number, ...) SELECT 'INC' || lpad(..), $1, .. FROM (SELECT nextval(..)) n
    RETURNING number` (a round trip and a statement fewer than `SELECT nextval` first). The number
    reads as `shared.numbering.format_number` writes it: zero-padded to 7 digits, never cut."""
    drawn = select(INCIDENT_NUMBERS.next_value().label("value")).subquery("n")
    digits = cast(drawn.c.value, Text)
    number = literal(NUMBER_PREFIX, String) + func.lpad(digits, func.greatest(7, func.length(digits)), "0")
    columns = [c for c in incident.c if c.name != "number"]
    values = select(number, *(bindparam(c.name, type_=c.type) for c in columns)).select_from(drawn)
    return incident.insert().from_select(["number", *(c.name for c in columns)], values).returning(incident.c.number)


_INSERT_NUMBERED_INCIDENT = _numbered_insert()


def _to_row(item: Incident) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "title": item.title,
        "description": item.description,
        "caller": item.caller,
        "channel": item.channel.value,
        "impact": int(item.impact),
        "urgency": int(item.urgency),
        "priority": item.priority,
        "status": item.status.value,
        "ci_id": item.ci_id,
        "opened_at": item.opened_at,
        "updated_at": item.updated_at,
        "version": item.version,
    }


def _to_domain(row: Any) -> Incident:
    return Incident(
        id=row.id,
        number=row.number,
        title=row.title,
        description=row.description,
        caller=row.caller,
        channel=Channel(row.channel),
        impact=Impact(row.impact),
        urgency=Urgency(row.urgency),
        priority=row.priority,
        status=IncidentStatus(row.status),
        ci_id=row.ci_id,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        version=row.version,
    )


class IncidentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "incident")

    async def add(self, item: Incident) -> None:
        await self._conn.execute(_INSERT_INCIDENT, _to_row(item))

    async def add_numbered(self, item: Incident) -> None:
        """Insert a new incident and give it the next record number (`item.number` is set).

        Numbers come from the PostgreSQL sequence (SQLite: the counter row), as with
        `next_number`: they may skip after a rollback, never repeat."""
        if self._conn.dialect.name == "postgresql":
            row = _to_row(item)
            del row["number"]
            item.number = (await self._conn.execute(_INSERT_NUMBERED_INCIDENT, row)).scalar_one()
        else:
            item.number = format_number(NUMBER_PREFIX, await self.next_number())
            await self.add(item)

    async def get(self, incident_id: UUID) -> Incident | None:
        row = (await self._conn.execute(select(incident).where(incident.c.id == incident_id))).first()
        return _to_domain(row) if row else None


async def get_incident(conn: AsyncConnection, incident_id: UUID) -> Incident | None:
    return await IncidentRepository(conn).get(incident_id)


async def list_incidents(
    conn: AsyncConnection,
    *,
    status: str | None,
    priority: int | None,
    limit: int,
    offset: int,
) -> tuple[list[Incident], int]:
    query = select(incident)
    if status is not None:
        query = query.where(incident.c.status == status)
    if priority is not None:
        query = query.where(incident.c.priority == priority)
    total = await conn.scalar(select(func.count()).select_from(query.subquery()))
    rows = await conn.execute(query.order_by(incident.c.opened_at.desc(), incident.c.id).limit(limit).offset(offset))
    return [_to_domain(r) for r in rows], int(total or 0)
