"""Releases: their rows and reads."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.releases import AcceptanceResult, Release, ReleaseStatus, ReleaseType
from services.change.store.tables import release
from shared.db import page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.numbering import next_number


def _release_row(r: Release) -> dict[str, Any]:
    return row_values(
        release,
        r,
        type=r.release_type.value,
        change_ids=[str(c) for c in r.change_ids],
        known_error_ids=[str(k) for k in r.known_error_ids],
        acceptance_criteria=list(r.acceptance_criteria),
        acceptance_result=r.acceptance_result.value if r.acceptance_result else None,
        status=r.status.value,
    )


def _release(row: Any) -> Release:
    return record_of(
        Release,
        row,
        release_type=ReleaseType(row.type),
        change_ids=tuple(UUID(c) for c in row.change_ids),
        known_error_ids=tuple(UUID(k) for k in row.known_error_ids),
        acceptance_criteria=tuple(row.acceptance_criteria),
        acceptance_result=AcceptanceResult(row.acceptance_result) if row.acceptance_result else None,
        status=ReleaseStatus(row.status),
    )


async def next_release_number(conn: AsyncConnection) -> int:
    return await next_number(conn, "release")


async def add_release(conn: AsyncConnection, r: Release) -> None:
    await conn.execute(release.insert().values(_release_row(r)))


async def save_release(conn: AsyncConnection, r: Release, expected_version: int) -> None:
    values = _release_row(r)
    del values["id"], values["number"], values["created_at"]
    await update_versioned(conn, release, r.id, expected_version, values, label=r.number, version_column="row_version")


async def get_release(conn: AsyncConnection, release_id: UUID, *, for_update: bool = False) -> Release | None:
    row = await row_by_id(conn, release, release_id, for_update=for_update)
    return _release(row) if row else None


async def list_releases(
    conn: AsyncConnection,
    *,
    status: str | None,
    service_id: UUID | None,
    release_type: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Release], int]:
    query = where_given(select(release), release, status=status, service_id=service_id, type=release_type)
    rows, total = await page(conn, query, release.c.created_at.desc(), release.c.id, limit=limit, offset=offset)
    return [_release(r) for r in rows], total
