"""Standard change templates: their rows and reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.templates import ChangeTemplate
from services.change.store.tables import change, change_template
from shared.db import record_of, row_by_id, row_values, update_versioned, where_given


def _template_row(t: ChangeTemplate) -> dict[str, Any]:
    return row_values(
        change_template,
        t,
        pipeline_names=list(t.pipeline_names),
        default_duration_s=int(t.default_duration.total_seconds()),
    )


def _template(row: Any) -> ChangeTemplate:
    return record_of(
        ChangeTemplate,
        row,
        pipeline_names=tuple(row.pipeline_names),
        default_duration=timedelta(seconds=row.default_duration_s),
    )


async def add_template(conn: AsyncConnection, t: ChangeTemplate) -> None:
    await conn.execute(change_template.insert().values(_template_row(t)))


async def save_template(conn: AsyncConnection, t: ChangeTemplate, expected_version: int) -> None:
    values = _template_row(t)
    del values["id"], values["created_at"], values["created_by"]
    await update_versioned(conn, change_template, t.id, expected_version, values, label=f"template {t.name!r}")


async def get_template(conn: AsyncConnection, template_id: UUID, *, for_update: bool = False) -> ChangeTemplate | None:
    row = await row_by_id(conn, change_template, template_id, for_update=for_update)
    return _template(row) if row else None


async def list_templates(conn: AsyncConnection, *, active: bool | None = None) -> list[ChangeTemplate]:
    query = where_given(select(change_template), change_template, active=active)
    rows = await conn.execute(query.order_by(change_template.c.created_at, change_template.c.id))
    return [_template(r) for r in rows]


async def template_in_use(conn: AsyncConnection, template_id: UUID) -> bool:
    return bool(await conn.scalar(select(func.count()).where(change.c.template_id == template_id)))


async def delete_template(conn: AsyncConnection, template_id: UUID) -> bool:
    result = await conn.execute(delete(change_template).where(change_template.c.id == template_id))
    return bool(result.rowcount)
