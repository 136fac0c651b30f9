"""The access register: the repository of access grants (with their field history), the list
query, and the access watcher's queries and notice keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.access import (
    IN_FORCE,
    OPEN,
    AccessGrant,
    AccessMoved,
    AccessRequested,
    AccessType,
    Classification,
    GrantStatus,
    ReviewOutcome,
)
from services.supplier.store.history import Entry, write_history
from services.supplier.store.tables import access_grant, access_notice
from shared.db import insert_ignoring_duplicates, page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.numbering import next_number

RECORD_TYPE = "access_grant"


def _to_row(item: AccessGrant) -> dict[str, Any]:
    return row_values(
        access_grant,
        item,
        access_type=item.access_type.value,
        classification=item.classification.value,
        status=item.status.value,
        holders=list(item.holders),
        last_review_outcome=item.last_review_outcome.value if item.last_review_outcome else None,
    )


def _to_domain(row: Any) -> AccessGrant:
    return record_of(
        AccessGrant,
        row,
        access_type=AccessType(row.access_type),
        classification=Classification(row.classification),
        status=GrantStatus(row.status),
        holders=tuple(row.holders),
        last_review_outcome=ReviewOutcome(row.last_review_outcome) if row.last_review_outcome else None,
    )


class AccessGrantRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "access_grant")

    async def add(self, item: AccessGrant) -> None:
        await self._conn.execute(access_grant.insert().values(_to_row(item)))
        await self._history(item)

    async def get(self, grant_id: UUID, *, for_update: bool = False, skip_locked: bool = False) -> AccessGrant | None:
        row = await row_by_id(self._conn, access_grant, grant_id, for_update=for_update, skip_locked=skip_locked)
        return _to_domain(row) if row else None

    async def save(self, item: AccessGrant) -> None:
        """Write a changed grant if nobody else did since it was read, with its history."""
        values = _to_row(item)
        del values["id"], values["number"], values["created_at"], values["supplier_id"]
        await update_versioned(self._conn, access_grant, item.id, item.version - 1, values, label=item.number)
        await self._history(item)

    async def _history(self, item: AccessGrant) -> None:
        entries = [
            Entry(e.action.value, e.actor, e.changes, e.reason)
            if isinstance(e, AccessMoved)
            else Entry("request", e.actor, {"status": (None, GrantStatus.REQUESTED.value)})
            for e in item.pending_events
            if isinstance(e, AccessMoved | AccessRequested)
        ]
        await write_history(self._conn, RECORD_TYPE, item.id, item.version, item.updated_at, entries)

    async def open_on_contract(self, contract_id: UUID) -> list[AccessGrant]:
        """The grants resting on the contract that are still requested, granted or under review,
        locked (a grant moved meanwhile by another transaction is read as it is after it)."""
        t = access_grant
        query = (
            select(t)
            .where(t.c.contract_id == contract_id, t.c.status.in_([s.value for s in OPEN]))
            .order_by(t.c.id)
            .with_for_update()
        )
        return [_to_domain(r) for r in await self._conn.execute(query)]

    async def claim_notice(self, grant_id: UUID, kind: str, deadline: datetime, now: datetime) -> bool:
        """Record that `kind` was raised for this grant and date; False if it already was."""
        values = {"grant_id": grant_id, "kind": kind, "deadline": deadline, "notified_at": now}
        stmt = insert_ignoring_duplicates(access_notice, values, returning="grant_id")
        return (await self._conn.execute(stmt, values)).first() is not None


async def list_grants(
    conn: AsyncConnection,
    *,
    supplier_id: UUID | None,
    status: str | None,
    contract_id: UUID | None = None,
    limit: int,
    offset: int,
) -> tuple[list[AccessGrant], int]:
    query = where_given(
        select(access_grant), access_grant, supplier_id=supplier_id, status=status, contract_id=contract_id
    )
    order = (access_grant.c.created_at.desc(), access_grant.c.id)
    rows, total = await page(conn, query, *order, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


async def due_for_access_watch(conn: AsyncConnection, now: datetime) -> list[UUID]:
    """Grants in force whose expiry has come, or granted ones whose next review has (the domain
    decides; this only narrows)."""
    t = access_grant
    query = select(t.c.id).where(
        or_(
            and_(t.c.status.in_([s.value for s in IN_FORCE]), t.c.expires_on <= now),
            and_(t.c.status == GrantStatus.GRANTED.value, t.c.next_review_on <= now),
        )
    )
    return list((await conn.execute(query.order_by(t.c.id))).scalars())
