"""CMDB store, continuity (6.3): plans and their versions, tests, invocations, pack exports, and
what the continuity pack reads (the covered services, their CIs, the relationships among them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import CIStatus
from services.config.store.tables import (
    ci_relationship,
    config_item,
    continuity_invocation,
    continuity_pack_export,
    continuity_plan,
    continuity_plan_version,
    continuity_test,
)
from shared.db import page, row_by_id, where_given

PACK_MAX_CIS = 20_000


async def add_plan(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(continuity_plan.insert().values(**values))


async def save_plan(conn: AsyncConnection, plan_id: UUID, values: Mapping[str, Any]) -> None:
    await conn.execute(update(continuity_plan).where(continuity_plan.c.id == plan_id).values(**values))


async def add_plan_version(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(continuity_plan_version.insert().values(**values))


async def get_plan(conn: AsyncConnection, plan_id: UUID, *, for_update: bool = False) -> Any:
    return await row_by_id(conn, continuity_plan, plan_id, for_update=for_update)


async def page_of_plans(conn: AsyncConnection, *, kind: str | None, limit: int, offset: int) -> tuple[list[Any], int]:
    query = where_given(select(continuity_plan), continuity_plan, kind=kind)
    return await page(conn, query, continuity_plan.c.title, continuity_plan.c.id, limit=limit, offset=offset)


async def all_plans(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(continuity_plan).order_by(continuity_plan.c.title, continuity_plan.c.id)))


async def plan_versions(conn: AsyncConnection, plan_id: UUID) -> list[Any]:
    v = continuity_plan_version
    return list(await conn.execute(select(v).where(v.c.plan_id == plan_id).order_by(v.c.version.desc())))


async def plans_covering(conn: AsyncConnection, service_ids: Sequence[UUID]) -> list[Any]:
    """Plans covering any of the services (the JSON list is matched in Python: plans are few)."""
    wanted = {str(s) for s in service_ids}
    return [p for p in await all_plans(conn) if wanted.intersection(p.service_ids)]


async def add_test(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(continuity_test.insert().values(**values))


async def page_of_tests(conn: AsyncConnection, plan_id: UUID, *, limit: int, offset: int) -> tuple[list[Any], int]:
    t = continuity_test
    query = select(t).where(t.c.plan_id == plan_id)
    return await page(conn, query, t.c.tested_at.desc(), t.c.id, limit=limit, offset=offset)


async def add_invocation(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(continuity_invocation.insert().values(**values))


async def get_invocation(conn: AsyncConnection, invocation_id: UUID, *, for_update: bool = False) -> Any:
    return await row_by_id(conn, continuity_invocation, invocation_id, for_update=for_update)


async def save_invocation(conn: AsyncConnection, invocation_id: UUID, values: Mapping[str, Any]) -> None:
    i = continuity_invocation
    await conn.execute(update(i).where(i.c.id == invocation_id).values(**values))


async def add_pack_export(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(continuity_pack_export.insert().values(**values))


async def services_and_cis(conn: AsyncConnection, service_ids: Sequence[UUID]) -> tuple[list[Any], list[Any]]:
    """The services (as CIs) and the live CIs that run them (their `service_id`), by name."""
    if not service_ids:
        return [], []
    c = config_item
    services = await conn.execute(select(c).where(c.c.id.in_(list(service_ids))).order_by(c.c.name))
    members = await conn.execute(
        select(c)
        .where(c.c.service_id.in_(list(service_ids)), c.c.status != CIStatus.RETIRED.value)
        .order_by(c.c.name, c.c.id)
        .limit(PACK_MAX_CIS)
    )
    return list(services), list(members)


async def relationships_among(conn: AsyncConnection, ci_ids: Sequence[UUID]) -> list[Any]:
    """Relationships with a source or target among the CIs (in chunks: a long IN list is split)."""
    found: dict[Any, Any] = {}
    ids = list(ci_ids)
    r = ci_relationship
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = await conn.execute(select(r).where(or_(r.c.source_id.in_(chunk), r.c.target_id.in_(chunk))))
        for row in rows:
            found[row.id] = row
    return sorted(found.values(), key=lambda row: (str(row.source_id), row.type, str(row.target_id)))
