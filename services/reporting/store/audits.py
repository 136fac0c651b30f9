"""Internal audit records (ISO/IEC 20000-1 4.5.4.2): programmes and audits with their findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.audits import AuditProgramme, AuditStatus, InternalAudit, findings_json, findings_of
from services.reporting.store.tables import audit_programme, internal_audit
from shared.db import page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.numbering import format_number, next_number

NUMBER_PREFIX, NUMBER_SEQUENCE = "AUD", "audit"


async def add_programme(conn: AsyncConnection, programme: AuditProgramme) -> None:
    await conn.execute(audit_programme.insert(), row_values(audit_programme, programme))


async def get_programme(conn: AsyncConnection, programme_id: UUID) -> AuditProgramme | None:
    row = await row_by_id(conn, audit_programme, programme_id)
    return record_of(AuditProgramme, row) if row is not None else None


async def page_of_programmes(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[AuditProgramme], int]:
    query = select(audit_programme)
    rows, total = await page(
        conn, query, audit_programme.c.period_start.desc(), audit_programme.c.id, limit=limit, offset=offset
    )
    return [record_of(AuditProgramme, r) for r in rows], total


def _row(audit: InternalAudit) -> dict[str, Any]:
    return row_values(
        internal_audit,
        audit,
        status=audit.status.value,
        auditees=list(audit.auditees),
        findings=findings_json(audit.findings),
    )


def audit_of(row: Any) -> InternalAudit:
    values = row._mapping
    return record_of(
        InternalAudit,
        row,
        status=AuditStatus(values["status"]),
        auditees=tuple(values["auditees"]),
        findings=findings_of(values["findings"]),
    )


async def new_number(conn: AsyncConnection) -> str:
    return format_number(NUMBER_PREFIX, await next_number(conn, NUMBER_SEQUENCE))


async def add_audit(conn: AsyncConnection, audit: InternalAudit) -> None:
    await conn.execute(internal_audit.insert(), _row(audit))


async def save_audit(conn: AsyncConnection, audit: InternalAudit, expected_version: int) -> None:
    values = _row(audit)
    del values["id"]
    await update_versioned(conn, internal_audit, audit.id, expected_version, values, label=f"audit {audit.number}")


async def get_audit(conn: AsyncConnection, audit_id: UUID, *, for_update: bool = False) -> InternalAudit | None:
    row = await row_by_id(conn, internal_audit, audit_id, for_update=for_update)
    return audit_of(row) if row is not None else None


async def page_of_audits(
    conn: AsyncConnection, *, programme_id: UUID | None, status: str | None, limit: int, offset: int
) -> tuple[Sequence[InternalAudit], int]:
    query = where_given(select(internal_audit), internal_audit, programme_id=programme_id, status=status)
    rows, total = await page(
        conn, query, internal_audit.c.planned_on.desc(), internal_audit.c.id, limit=limit, offset=offset
    )
    return [audit_of(r) for r in rows], total


async def missing_audits(conn: AsyncConnection, audit_ids: Sequence[UUID]) -> list[UUID]:
    """Those of `audit_ids` that are no stored audit."""
    if not audit_ids:
        return []
    found = set(await conn.scalars(select(internal_audit.c.id).where(internal_audit.c.id.in_(list(audit_ids)))))
    return [a for a in audit_ids if a not in found]
