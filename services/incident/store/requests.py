"""Service request persistence: the request repository, its field history and the request list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.requests import RequestChanged, RequestStatus, ServiceRequest
from services.incident.store.tables import service_request, service_request_history
from shared.db import number_or_text, page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.history import history_rows
from shared.numbering import format_number, next_number

NUMBER_PREFIX = "REQ"
NUMBER_SEQUENCE = "request"


_INSERT_REQUEST = service_request.insert()


def _request_row(request: ServiceRequest) -> dict[str, Any]:
    return row_values(service_request, request, status=request.status.value)


def _request(row: Any) -> ServiceRequest:
    return record_of(ServiceRequest, row, status=RequestStatus(row.status))


class RequestRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_numbered(self, request: ServiceRequest) -> None:
        """Insert a new request with the next `REQ` number (sets `request.number`)."""
        request.number = format_number(NUMBER_PREFIX, await next_number(self._conn, NUMBER_SEQUENCE))
        await self._conn.execute(_INSERT_REQUEST, _request_row(request))

    async def get(self, request_id: UUID, *, for_update: bool = False) -> ServiceRequest | None:
        row = await row_by_id(self._conn, service_request, request_id, for_update=for_update)
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
    query = where_given(
        select(service_request),
        service_request,
        status=status,
        requester=requester,
        assignment_group=assignment_group,
        catalogue_item_id=catalogue_item_id,
    )
    if text:
        query = query.where(number_or_text(service_request, text, "title"))
    rows, total = await page(
        conn, query, service_request.c.submitted_at.desc(), service_request.c.id, limit=limit, offset=offset
    )
    return [_request(r) for r in rows], total


async def history_of(conn: AsyncConnection, request_id: UUID) -> list[Any]:
    query = select(service_request_history).where(service_request_history.c.request_id == request_id)
    return list(await conn.execute(query.order_by(service_request_history.c.id)))
