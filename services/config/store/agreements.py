"""CMDB store, agreements (ISO/IEC 20000-1 6.1): every version of every SLA and OLA."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.agreements import Agreement, AgreementKind, AgreementStatus, PriorityTarget
from services.config.store.tables import agreement
from shared.db import page, row_by_id, row_values, update_versioned, where_given


def _row(record: Agreement) -> dict[str, Any]:
    return row_values(
        agreement,
        record,
        kind=record.kind.value,
        status=record.status.value,
        service_ids=[str(s) for s in record.service_ids],
        targets=[
            {"priority": t.priority, "response_minutes": t.response_minutes, "resolution_minutes": t.resolution_minutes}
            for t in record.targets
        ],
        exclusions=list(record.exclusions),
    )


def agreement_of(row: Any) -> Agreement:
    # Built by hand: the record's `kind` field is record_of's first parameter's name.
    columns = dict(row._mapping)
    columns.update(
        kind=AgreementKind(row.kind),
        status=AgreementStatus(row.status),
        service_ids=tuple(UUID(s) for s in row.service_ids),
        targets=tuple(PriorityTarget(**t) for t in row.targets),
        exclusions=tuple(row.exclusions),
    )
    return Agreement(**columns)


async def add_agreement(conn: AsyncConnection, record: Agreement) -> None:
    await conn.execute(agreement.insert(), _row(record))


async def save_agreement(conn: AsyncConnection, record: Agreement, expected_version: int) -> None:
    values = _row(record)
    del values["id"]
    label = f"{record.number} v{record.document_version}"
    await update_versioned(conn, agreement, record.id, expected_version, values, label=label)


async def get_agreement(conn: AsyncConnection, agreement_id: UUID, *, for_update: bool = False) -> Agreement | None:
    row = await row_by_id(conn, agreement, agreement_id, for_update=for_update)
    return agreement_of(row) if row is not None else None


async def versions_of(conn: AsyncConnection, number: str) -> list[Agreement]:
    rows = await conn.execute(
        select(agreement).where(agreement.c.number == number).order_by(agreement.c.document_version)
    )
    return [agreement_of(r) for r in rows]


async def page_of_agreements(
    conn: AsyncConnection,
    *,
    kind: str | None,
    status: str | None,
    customer_id: UUID | None,
    number: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Agreement], int]:
    query = where_given(select(agreement), agreement, kind=kind, status=status, customer_id=customer_id, number=number)
    rows, total = await page(conn, query, agreement.c.number, agreement.c.document_version, limit=limit, offset=offset)
    return [agreement_of(r) for r in rows], total


async def count_agreements_of_customer(conn: AsyncConnection, customer_id: UUID) -> int:
    query = select(func.count()).select_from(agreement).where(agreement.c.customer_id == customer_id)
    return int(await conn.scalar(query) or 0)
