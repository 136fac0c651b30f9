"""Report agreements: every version of each report's agreement, append-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.agreements import AgreementVersion, Recipient
from services.reporting.store.tables import report_agreement
from shared.db import insert_ignoring_duplicates, page, record_of
from shared.errors import PreconditionFailed


def _version(row: Any) -> AgreementVersion:
    return record_of(
        AgreementVersion,
        row,
        agreed_with=tuple(row.agreed_with),
        distribution_list=tuple(Recipient(d["recipient"], d["channel"]) for d in row.distribution_list),
    )


async def versions(conn: AsyncConnection, report: str) -> list[AgreementVersion]:
    """Every version of a report's agreement, oldest first."""
    a = report_agreement
    rows = await conn.execute(select(a).where(a.c.report == report).order_by(a.c.version))
    return [_version(r) for r in rows]


async def version_page(conn: AsyncConnection, report: str, *, limit: int, offset: int) -> tuple[list[Any], int]:
    a = report_agreement
    rows, total = await page(conn, select(a).where(a.c.report == report), a.c.version, limit=limit, offset=offset)
    return [_version(r) for r in rows], total


async def latest_versions(conn: AsyncConnection) -> dict[str, list[AgreementVersion]]:
    """Every report's versions (oldest first): what the scheduler needs in one query."""
    a = report_agreement
    found: dict[str, list[AgreementVersion]] = {}
    for row in await conn.execute(select(a).order_by(a.c.report, a.c.version)):
        version = _version(row)
        found.setdefault(version.report, []).append(version)
    return found


async def append_version(conn: AsyncConnection, v: AgreementVersion) -> None:
    """Record a new version; 412 when another writer recorded this version number first."""
    row = v.as_record()
    stmt = insert_ignoring_duplicates(report_agreement, row, returning="version")
    if (await conn.execute(stmt, row)).first() is None:
        raise PreconditionFailed(f"the agreement of {v.report!r} was changed by someone else meanwhile; read it again")
