"""Service request persistence: the catalogue, the requests and their field history.

The tables join the incident service's metadata (`services.incident.store.metadata`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.requests.domain import CatalogueItem, RequestChanged, RequestStatus, ServiceRequest
from services.incident.store import metadata
from shared.history import history_rows
from shared.db import BigIntKey, UtcDateTime, page, update_versioned
from shared.numbering import format_number, next_number

NUMBER_PREFIX = "REQ"
NUMBER_SEQUENCE = "request"

catalogue_item = Table(
    "catalogue_item",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("service_id", Uuid, index=True),
    Column("needs_approval", Boolean, nullable=False),
    Column("approver_role", String(50)),
    Column("fulfilment_group", String(100), nullable=False),
    Column("default_priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

service_request = Table(
    "service_request",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("catalogue_item_id", Uuid, ForeignKey("catalogue_item.id"), nullable=False, index=True),
    Column("catalogue_item", String(100), nullable=False),
    Column("service_id", Uuid),
    Column("needs_approval", Boolean, nullable=False),
    Column("approver_role", String(50)),
    Column("requester", String(200), nullable=False, index=True),
    Column("requested_for", String(200), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("assignment_group", String(100), nullable=False, index=True),
    Column("assignee", String(200)),
    Column("approver", String(200)),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("fulfilment_started_at", UtcDateTime),
    Column("fulfilled_at", UtcDateTime),
    Column("fulfilment_notes", Text, nullable=False, server_default=""),
    Column("closed_at", UtcDateTime),
)

service_request_history = Table(
    "service_request_history",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("request_id", Uuid, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("field", String(50), nullable=False),
    Column("old", JSON),
    Column("new", JSON),
    Column("reason", Text, nullable=False, server_default=""),
)


# The catalogue -----------------------------------------------------------------------------------


def _item_row(item: CatalogueItem, at: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "service_id": item.service_id,
        "needs_approval": item.needs_approval,
        "approver_role": item.approver_role,
        "fulfilment_group": item.fulfilment_group,
        "default_priority": item.default_priority,
        "active": item.active,
        "version": item.version,
        "updated_at": at,
    }


def _item(row: Any) -> CatalogueItem:
    return CatalogueItem(
        id=row.id,
        name=row.name,
        description=row.description,
        service_id=row.service_id,
        needs_approval=row.needs_approval,
        approver_role=row.approver_role,
        fulfilment_group=row.fulfilment_group,
        default_priority=row.default_priority,
        active=row.active,
        version=row.version,
    )


async def add_item(conn: AsyncConnection, item: CatalogueItem, at: datetime) -> None:
    await conn.execute(catalogue_item.insert(), _item_row(item, at))


async def get_item(conn: AsyncConnection, item_id: UUID) -> tuple[CatalogueItem, datetime] | None:
    row = (await conn.execute(select(catalogue_item).where(catalogue_item.c.id == item_id))).first()
    return (_item(row), row.updated_at) if row else None


async def item_named(conn: AsyncConnection, name: str) -> UUID | None:
    found: UUID | None = await conn.scalar(select(catalogue_item.c.id).where(catalogue_item.c.name == name))
    return found


async def list_items(
    conn: AsyncConnection, *, service_id: UUID | None, active: bool | None
) -> list[tuple[CatalogueItem, datetime]]:
    query = select(catalogue_item)
    if service_id is not None:
        query = query.where(catalogue_item.c.service_id == service_id)
    if active is not None:
        query = query.where(catalogue_item.c.active.is_(active))
    return [(_item(r), r.updated_at) for r in await conn.execute(query.order_by(catalogue_item.c.name))]


async def replace_item(conn: AsyncConnection, item: CatalogueItem, expected_version: int, at: datetime) -> None:
    values = _item_row(item, at)
    del values["id"]
    await update_versioned(conn, catalogue_item, item.id, expected_version, values, label=f"catalogue item {item.name}")


async def requests_for_item(conn: AsyncConnection, item_id: UUID) -> int:
    count = await conn.scalar(select(func.count()).where(service_request.c.catalogue_item_id == item_id))
    return int(count or 0)


async def delete_item(conn: AsyncConnection, item_id: UUID) -> None:
    await conn.execute(delete(catalogue_item).where(catalogue_item.c.id == item_id))


# Requests ----------------------------------------------------------------------------------------

_COLUMNS = [c.name for c in service_request.c]
_INSERT_REQUEST = service_request.insert()


def _request_row(request: ServiceRequest) -> dict[str, Any]:
    row = {name: getattr(request, name) for name in _COLUMNS}
    row["status"] = request.status.value
    return row


def _request(row: Any) -> ServiceRequest:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["status"] = RequestStatus(row.status)
    return ServiceRequest(**values)


class RequestRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_numbered(self, request: ServiceRequest) -> None:
        """Insert a new request with the next `REQ` number (sets `request.number`)."""
        request.number = format_number(NUMBER_PREFIX, await next_number(self._conn, NUMBER_SEQUENCE))
        await self._conn.execute(_INSERT_REQUEST, _request_row(request))

    async def get(self, request_id: UUID, *, for_update: bool = False) -> ServiceRequest | None:
        query = select(service_request).where(service_request.c.id == request_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _request(row) if row else None

    async def save(self, request: ServiceRequest, expected_version: int) -> None:
        """Write a changed request if nobody else did since it was read, and its field history."""
        values = _request_row(request)
        del values["id"], values["number"], values["submitted_at"]
        await update_versioned(self._conn, service_request, request.id, expected_version, values, label=request.number)
        changed = [e for e in request.pending_events if isinstance(e, RequestChanged)]
        rows = history_rows("request_id", request.id, request.version, request.updated_at, changed)
        if rows:
            await self._conn.execute(service_request_history.insert(), rows)


async def get_request(conn: AsyncConnection, request_id: UUID) -> ServiceRequest | None:
    return await RequestRepository(conn).get(request_id)


async def list_requests(
    conn: AsyncConnection,
    *,
    status: str | None,
    requester: str | None,
    assignment_group: str | None,
    catalogue_item_id: UUID | None,
    text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ServiceRequest], int]:
    query = select(service_request)
    if status is not None:
        query = query.where(service_request.c.status == status)
    if requester is not None:
        query = query.where(service_request.c.requester == requester)
    if assignment_group is not None:
        query = query.where(service_request.c.assignment_group == assignment_group)
    if catalogue_item_id is not None:
        query = query.where(service_request.c.catalogue_item_id == catalogue_item_id)
    if text:
        query = query.where(
            or_(
                service_request.c.title.icontains(text, autoescape=True),
                service_request.c.number == text.upper(),
            )
        )
    rows, total = await page(
        conn, query, service_request.c.submitted_at.desc(), service_request.c.id, limit=limit, offset=offset
    )
    return [_request(r) for r in rows], total


async def history_of(conn: AsyncConnection, request_id: UUID) -> list[Any]:
    query = select(service_request_history).where(service_request_history.c.request_id == request_id)
    return list(await conn.execute(query.order_by(service_request_history.c.id)))
