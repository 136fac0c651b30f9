"""Incident persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, Integer, String, Table, Text, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain import Channel, Impact, Incident, IncidentStatus, Urgency
from shared.db import UtcDateTime, make_metadata
from shared.inbox import inbox_table
from shared.numbering import next_number, number_sequence_table, postgres_sequence
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
        await self._conn.execute(incident.insert().values(_to_row(item)))

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
