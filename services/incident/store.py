"""Incident persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain import Channel, HoldReason, Impact, Incident, IncidentChanged, IncidentStatus, Urgency
from shared.db import BigIntKey, UtcDateTime, make_metadata, page
from shared.errors import PreconditionFailed
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
    Column("assignment_group", String(100), index=True),
    Column("assignee", String(200), index=True),
    Column("hold_reason", String(30)),
    Column("resolution_code", String(50)),
    Column("resolution_notes", Text, nullable=False, server_default=""),
    Column("first_response_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    # Problem management's links (8.2): the problem and known error it is linked to, the
    # workaround offered, and the change that probably caused it.
    Column("problem_id", Uuid, index=True),
    Column("problem_number", String(20)),
    Column("known_error_id", Uuid),
    Column("workaround", Text),
    Column("caused_by_change_id", Uuid, index=True),
    Column("caused_by_change_number", String(20)),
)

# Every field an action changed: who, when, old, new, why (ISO/IEC 20000-1 4.3.3 records).
incident_history = Table(
    "incident_history",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("incident_id", Uuid, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("field", String(50), nullable=False),
    Column("old", JSON),
    Column("new", JSON),
    Column("reason", Text, nullable=False, server_default=""),
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
        "assignment_group": item.assignment_group,
        "assignee": item.assignee,
        "hold_reason": item.hold_reason.value if item.hold_reason else None,
        "resolution_code": item.resolution_code,
        "resolution_notes": item.resolution_notes,
        "first_response_at": item.first_response_at,
        "resolved_at": item.resolved_at,
        "closed_at": item.closed_at,
        "problem_id": item.problem_id,
        "problem_number": item.problem_number,
        "known_error_id": item.known_error_id,
        "workaround": item.workaround,
        "caused_by_change_id": item.caused_by_change_id,
        "caused_by_change_number": item.caused_by_change_number,
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
        assignment_group=row.assignment_group,
        assignee=row.assignee,
        hold_reason=HoldReason(row.hold_reason) if row.hold_reason else None,
        resolution_code=row.resolution_code,
        resolution_notes=row.resolution_notes,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        problem_id=row.problem_id,
        problem_number=row.problem_number,
        known_error_id=row.known_error_id,
        workaround=row.workaround,
        caused_by_change_id=row.caused_by_change_id,
        caused_by_change_number=row.caused_by_change_number,
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

    async def get(self, incident_id: UUID, *, for_update: bool = False) -> Incident | None:
        query = select(incident).where(incident.c.id == incident_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _to_domain(row) if row else None

    async def lock_available(self, incident_ids: Collection[UUID]) -> dict[UUID, Incident]:
        """The incidents nobody else holds, locked for this transaction (PostgreSQL: the others
        are skipped, not waited for, so a background job never blocks an agent's action)."""
        if not incident_ids:
            return {}
        query = select(incident).where(incident.c.id.in_(list(incident_ids)))
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return {row.id: _to_domain(row) for row in await self._conn.execute(query)}

    async def save(self, item: Incident, expected_version: int) -> None:
        """Write a changed incident if nobody else did since it was read, and its field history."""
        values = _to_row(item)
        del values["id"], values["number"], values["opened_at"]
        result = await self._conn.execute(
            update(incident).where(incident.c.id == item.id, incident.c.version == expected_version).values(values)
        )
        if result.rowcount != 1:
            raise PreconditionFailed(f"{item.number} was changed by someone else meanwhile; read it again")
        rows = [
            {
                "incident_id": item.id,
                "version": item.version,
                "at": item.updated_at,
                "actor": e.actor,
                "action": e.action.value,
                "field": name,
                "old": old,
                "new": new,
                "reason": e.reason,
            }
            for e in item.pending_events
            if isinstance(e, IncidentChanged)
            for name, (old, new) in e.changes.items()
        ]
        if rows:
            await self._conn.execute(incident_history.insert(), rows)


async def get_incident(conn: AsyncConnection, incident_id: UUID) -> Incident | None:
    return await IncidentRepository(conn).get(incident_id)


async def list_incidents(
    conn: AsyncConnection,
    *,
    status: str | None,
    priority: int | None,
    limit: int,
    offset: int,
    assignment_group: str | None = None,
    assignee: str | None = None,
    ci_id: UUID | None = None,
    text: str | None = None,
) -> tuple[list[Incident], int]:
    query = select(incident)
    if status is not None:
        query = query.where(incident.c.status == status)
    if priority is not None:
        query = query.where(incident.c.priority == priority)
    if assignment_group is not None:
        query = query.where(incident.c.assignment_group == assignment_group)
    if assignee is not None:
        query = query.where(incident.c.assignee == assignee)
    if ci_id is not None:
        query = query.where(incident.c.ci_id == ci_id)
    if text:
        # autoescape: `%` and `_` typed by the user are characters, not wildcards.
        query = query.where(
            or_(
                incident.c.title.icontains(text, autoescape=True),
                incident.c.description.icontains(text, autoescape=True),
                incident.c.number == text.upper(),
            )
        )
    rows, total = await page(conn, query, incident.c.opened_at.desc(), incident.c.id, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


async def history_of(conn: AsyncConnection, incident_id: UUID) -> list[Any]:
    query = select(incident_history).where(incident_history.c.incident_id == incident_id)
    return list(await conn.execute(query.order_by(incident_history.c.id)))
