"""Complaint persistence (ISO/IEC 20000-1 7.1): the complaint tables (declared here on the service's
metadata, as `known_changes` does, since `tables.py` is at its size limit), the repository with its
field history and links, the list, and the lookups that check what a complaint links to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, Uuid, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.complaints import (
    Complaint,
    ComplaintChanged,
    ComplaintChannel,
    ComplaintLink,
    ComplaintLinkKind,
    ComplaintStatus,
)
from services.incident.store.tables import metadata, service_request
from shared.db import UtcDateTime, number_or_text, page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.history import field_history_table, history_rows
from shared.numbering import format_number, next_number

NUMBER_PREFIX = "CMP"
NUMBER_SEQUENCE = "complaint"

complaint = Table(
    "complaint",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("complainant", String(200), nullable=False),
    Column("received_via", String(20), nullable=False),
    Column("status", String(40), nullable=False, index=True),
    Column("category", String(100)),
    Column("service_id", Uuid, index=True),
    Column("relationship_manager", String(200)),
    Column("owner", String(200)),
    Column("investigation_notes", Text, nullable=False, server_default=""),
    Column("root_cause", Text, nullable=False, server_default=""),
    Column("actions_taken", Text, nullable=False, server_default=""),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("escalated_to", String(200)),
    Column("escalated_at", UtcDateTime),
    Column("recorded_by", String(200), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The acknowledge and respond targets: due when received, met when first acknowledged and
    # first responded to (resolved pending confirmation); a breach is computed on read.
    Column("acknowledge_due_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime),
    Column("respond_due_at", UtcDateTime, nullable=False),
    Column("responded_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("closure_reason", Text, nullable=False, server_default=""),
    Column("closure_confirmed_by_customer", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_complaint_complainant_received_at", "complainant", "received_at"),
)

complaint_history = field_history_table(metadata, "complaint_history", "complaint_id", action_length=20)

# The records a complaint concerns: incidents and requests of this service, changes it has learnt
# from the change service's events, suppliers (unchecked: no supplier register here yet).
complaint_link = Table(
    "complaint_link",
    metadata,
    Column("complaint_id", Uuid, primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("target_id", Uuid, primary_key=True, index=True),
    Column("number", String(20)),
    Column("linked_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
)


def _complaint_row(item: Complaint) -> dict[str, Any]:
    return row_values(complaint, item, status=item.status.value, received_via=item.received_via.value)


def _complaint(row: Any, links: list[ComplaintLink]) -> Complaint:
    return record_of(
        Complaint,
        row,
        status=ComplaintStatus(row.status),
        received_via=ComplaintChannel(row.received_via),
        links=links,
    )


async def _links(conn: AsyncConnection, complaint_ids: Sequence[UUID]) -> dict[UUID, list[ComplaintLink]]:
    found: dict[UUID, list[ComplaintLink]] = {c: [] for c in complaint_ids}
    if not complaint_ids:
        return found
    query = (
        select(complaint_link)
        .where(complaint_link.c.complaint_id.in_(complaint_ids))
        .order_by(complaint_link.c.linked_at, complaint_link.c.kind, complaint_link.c.target_id)
    )
    for row in await conn.execute(query):
        found[row.complaint_id].append(ComplaintLink(ComplaintLinkKind(row.kind), row.target_id, row.number))
    return found


class ComplaintRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_numbered(self, item: Complaint) -> None:
        """Insert a new complaint with the next `CMP` number (sets `item.number`)."""
        item.number = format_number(NUMBER_PREFIX, await next_number(self._conn, NUMBER_SEQUENCE))
        await self._conn.execute(complaint.insert(), _complaint_row(item))

    async def get(self, complaint_id: UUID, *, for_update: bool = False) -> Complaint | None:
        row = await row_by_id(self._conn, complaint, complaint_id, for_update=for_update)
        if row is None:
            return None
        return _complaint(row, (await _links(self._conn, [row.id]))[row.id])

    async def save(self, item: Complaint, expected_version: int) -> None:
        """Write a changed complaint if nobody did since it was read, its field history and the
        links its events added."""
        values = _complaint_row(item)
        del values["id"], values["number"], values["received_at"], values["recorded_by"]
        await update_versioned(self._conn, complaint, item.id, expected_version, values, label=item.number)
        changed = [e for e in item.pending_events if isinstance(e, ComplaintChanged)]
        rows = history_rows("complaint_id", item.id, item.version, item.updated_at, changed)
        if rows:
            await self._conn.execute(complaint_history.insert(), rows)
        links = [
            {
                "complaint_id": item.id,
                "kind": link.kind.value,
                "target_id": link.id,
                "number": link.number,
                "linked_at": item.updated_at,
                "actor": event.actor,
            }
            for event in changed
            for link in event.added_links
        ]
        if links:
            await self._conn.execute(complaint_link.insert(), links)


async def get_complaint(conn: AsyncConnection, complaint_id: UUID) -> Complaint | None:
    return await ComplaintRepository(conn).get(complaint_id)


async def list_complaints(
    conn: AsyncConnection,
    *,
    status: str | None,
    complainant: str | None,
    owner: str | None,
    service_id: UUID | None,
    overdue_at: datetime | None,
    text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Complaint], int]:
    """`overdue_at`: only the complaints with a target breached at that instant (passed unmet, or
    met late)."""
    query = where_given(
        select(complaint), complaint, status=status, complainant=complainant, owner=owner, service_id=service_id
    )
    if overdue_at is not None:
        query = query.where(
            or_(
                _breached(complaint.c.acknowledge_due_at, complaint.c.acknowledged_at, overdue_at),
                _breached(complaint.c.respond_due_at, complaint.c.responded_at, overdue_at),
            )
        )
    if text:
        query = query.where(number_or_text(complaint, text, "title", "description"))
    rows, total = await page(conn, query, complaint.c.received_at.desc(), complaint.c.id, limit=limit, offset=offset)
    links = await _links(conn, [r.id for r in rows])
    return [_complaint(r, links[r.id]) for r in rows], total


def _breached(due: Any, met: Any, now: datetime) -> Any:
    """The store's form of `domain.complaints.breached`."""
    return or_(and_(met.is_(None), due < now), met > due)


async def history_of(conn: AsyncConnection, complaint_id: UUID) -> list[Any]:
    query = select(complaint_history).where(complaint_history.c.complaint_id == complaint_id)
    return list(await conn.execute(query.order_by(complaint_history.c.id)))


async def request_numbers(conn: AsyncConnection, request_ids: Sequence[UUID]) -> dict[UUID, str]:
    """The numbers of the service requests that exist among `request_ids`."""
    if not request_ids:
        return {}
    query = select(service_request.c.id, service_request.c.number).where(service_request.c.id.in_(request_ids))
    return {row.id: row.number for row in await conn.execute(query)}
