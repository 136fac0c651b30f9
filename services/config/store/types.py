"""CMDB store, CI types: the built-in ones from the code, those added by API from `ci_type`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.types import BUILTIN_TYPES, CIType
from services.config.store.tables import ci_type
from shared.errors import Conflict


class TypeRepository:
    """Built-in types come from the code; types added through the API from the `ci_type` table."""

    _builtin = {t.name: t for t in BUILTIN_TYPES}

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, name: str) -> CIType | None:
        if name in self._builtin:
            return self._builtin[name]
        row = (await self._conn.execute(select(ci_type).where(ci_type.c.name == name))).first()
        return _type_of(row) if row else None

    async def all(self) -> list[CIType]:
        rows = await self._conn.execute(select(ci_type).order_by(ci_type.c.name))
        return [*BUILTIN_TYPES, *(_type_of(r) for r in rows)]

    async def add(self, item: CIType, *, actor: str, now: datetime) -> None:
        if item.name in self._builtin or await self.get(item.name) is not None:
            raise Conflict(f"a CI type named {item.name!r} exists already")
        await self._conn.execute(
            ci_type.insert().values(
                name=item.name,
                label=item.label,
                description=item.description,
                attribute_schema=item.attribute_schema,
                created_at=now,
                created_by=actor,
            )
        )


def _type_of(row: Any) -> CIType:
    return CIType(row.name, row.label, row.description, row.attribute_schema, builtin=False)


async def replace_attribute_schema(conn: AsyncConnection, name: str, attribute_schema: dict[str, Any]) -> None:
    """Only for `itsm repair`: a type's schema is otherwise fixed once defined."""
    await conn.execute(ci_type.update().where(ci_type.c.name == name).values(attribute_schema=attribute_schema))
