"""CMDB store, relationships: the repository (with the relationship history) and a CI's links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import Cause
from services.config.domain.relationships import Relationship, RelationshipType
from services.config.store.items import among
from services.config.store.tables import ci_relationship, relationship_history
from shared.db import record_of


def _relationship_of(row: Any) -> Relationship:
    return record_of(Relationship, row, type=RelationshipType(row.type))


class RelationshipRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, relationship_id: UUID) -> Relationship | None:
        row = (await self._conn.execute(select(ci_relationship).where(ci_relationship.c.id == relationship_id))).first()
        return _relationship_of(row) if row else None

    async def find(self, source_id: UUID, kind: RelationshipType, target_id: UUID) -> Relationship | None:
        query = select(ci_relationship).where(
            ci_relationship.c.source_id == source_id,
            ci_relationship.c.type == kind.value,
            ci_relationship.c.target_id == target_id,
        )
        row = (await self._conn.execute(query)).first()
        return _relationship_of(row) if row else None

    async def existing(self, edges: Iterable[tuple[UUID, RelationshipType, UUID]]) -> set[tuple[UUID, str, UUID]]:
        """Those of the given (source, type, target) relationships that exist (`find` for many)."""
        wanted = {(source, kind.value, target) for source, kind, target in edges}
        if not wanted:
            return set()
        r = ci_relationship
        kinds = [r.c.type.in_(sorted({kind for _, kind, _ in wanted}))]
        found: set[tuple[UUID, str, UUID]] = set()
        for condition in among(self._conn, r.c.source_id, sorted({source for source, _, _ in wanted})):
            rows = await self._conn.execute(select(r.c.source_id, r.c.type, r.c.target_id).where(condition, *kinds))
            found.update(edge for edge in ((row[0], row[1], row[2]) for row in rows) if edge in wanted)
        return found

    async def add_many(self, relationships: Sequence[Relationship], cause: Cause) -> None:
        """`add` for many, in two statements."""
        if not relationships:
            return
        await self._conn.execute(
            ci_relationship.insert(),
            [
                {
                    "id": r.id,
                    "source_id": r.source_id,
                    "type": r.type.value,
                    "target_id": r.target_id,
                    "created_at": r.created_at,
                }
                for r in relationships
            ],
        )
        await self._conn.execute(
            relationship_history.insert(), [_history_row(r, "added", cause, r.created_at) for r in relationships]
        )

    async def add(self, relationship: Relationship, cause: Cause) -> None:
        await self._conn.execute(
            ci_relationship.insert().values(
                id=relationship.id,
                source_id=relationship.source_id,
                type=relationship.type.value,
                target_id=relationship.target_id,
                created_at=relationship.created_at,
            )
        )
        await self._record(relationship, "added", cause, relationship.created_at)

    async def remove(self, relationship: Relationship, cause: Cause, now: datetime) -> None:
        await self._conn.execute(delete(ci_relationship).where(ci_relationship.c.id == relationship.id))
        await self._record(relationship, "removed", cause, now)

    async def _record(self, relationship: Relationship, action: str, cause: Cause, now: datetime) -> None:
        await self._conn.execute(relationship_history.insert().values(_history_row(relationship, action, cause, now)))


def _history_row(relationship: Relationship, action: str, cause: Cause, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "relationship_id": relationship.id,
        "action": action,
        "source_id": relationship.source_id,
        "type": relationship.type.value,
        "target_id": relationship.target_id,
        "recorded_at": now,
        "actor": cause.actor,
        "cause_kind": cause.kind,
        "cause_reference": cause.reference,
    }


async def relationships_of(conn: AsyncConnection, ci_id: UUID) -> list[Relationship]:
    query = (
        select(ci_relationship)
        .where(or_(ci_relationship.c.source_id == ci_id, ci_relationship.c.target_id == ci_id))
        .order_by(ci_relationship.c.type, ci_relationship.c.created_at)
    )
    return [_relationship_of(r) for r in await conn.execute(query)]
