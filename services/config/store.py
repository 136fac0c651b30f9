"""Configuration persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Uuid, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain import CIStatus, CIType, ConfigItem, Criticality, Identifiers
from shared.db import UtcDateTime, make_metadata
from shared.errors import Conflict
from shared.inbox import inbox_table
from shared.numbering import next_number, number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)

config_item = Table(
    "config_item",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("type", String(30), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("criticality", Integer, nullable=False),
    Column("owner", String(200)),
    Column("attributes", JSON, nullable=False),
    Column("serial", String(100)),
    Column("hostname", String(253)),
    Column("fqdn", String(253)),
    Column("cloud_id", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# domain.hostname_claim: a hostname belongs to one CI at a time, retired CIs release theirs.
_CLAIMS_HOSTNAME = config_item.c.status != CIStatus.RETIRED.value
Index(
    "uq_config_item_hostname",
    config_item.c.hostname,
    unique=True,
    postgresql_where=_CLAIMS_HOSTNAME,
    sqlite_where=_CLAIMS_HOSTNAME,
)


def _to_row(item: ConfigItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "name": item.name,
        "type": item.ci_type.value,
        "status": item.status.value,
        "criticality": int(item.criticality),
        "owner": item.owner,
        "attributes": item.attributes,
        "serial": item.identifiers.serial,
        "hostname": item.identifiers.hostname,
        "fqdn": item.identifiers.fqdn,
        "cloud_id": item.identifiers.cloud_id,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": item.version,
    }


def _to_domain(row: Any) -> ConfigItem:
    return ConfigItem(
        id=row.id,
        number=row.number,
        name=row.name,
        ci_type=CIType(row.type),
        status=CIStatus(row.status),
        criticality=Criticality(row.criticality),
        owner=row.owner,
        attributes=row.attributes,
        identifiers=Identifiers(serial=row.serial, hostname=row.hostname, fqdn=row.fqdn, cloud_id=row.cloud_id),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


class ConfigItemRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "ci")

    async def add(self, item: ConfigItem) -> None:
        try:
            await self._conn.execute(config_item.insert().values(_to_row(item)))
        except IntegrityError as exc:
            # Ids are random and numbers drawn once, so only the hostname index collides: a
            # concurrent create claimed it between the use case's check and this insert.
            raise Conflict(f"hostname {item.hostname_claim!r} is already held by another configuration item") from exc

    async def get(self, ci_id: UUID) -> ConfigItem | None:
        row = (await self._conn.execute(select(config_item).where(config_item.c.id == ci_id))).first()
        return _to_domain(row) if row else None

    async def holder_of_hostname(self, hostname: str) -> ConfigItem | None:
        """The CI that holds `hostname` (see `domain.hostname_claim`), if any."""
        query = select(config_item).where(config_item.c.hostname == hostname, _CLAIMS_HOSTNAME)
        row = (await self._conn.execute(query)).first()
        return _to_domain(row) if row else None


async def get_config_item(conn: AsyncConnection, ci_id: UUID) -> ConfigItem | None:
    return await ConfigItemRepository(conn).get(ci_id)


async def list_config_items(
    conn: AsyncConnection,
    *,
    ci_type: str | None,
    status: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ConfigItem], int]:
    query = select(config_item)
    if ci_type is not None:
        query = query.where(config_item.c.type == ci_type)
    if status is not None:
        query = query.where(config_item.c.status == status)
    if q:
        # autoescape: a `%` or `_` typed by the user is a character, not a wildcard.
        query = query.where(config_item.c.name.icontains(q, autoescape=True))
    total = await conn.scalar(select(func.count()).select_from(query.subquery()))
    rows = await conn.execute(
        query.order_by(config_item.c.created_at.desc(), config_item.c.id).limit(limit).offset(offset)
    )
    return [_to_domain(r) for r in rows], int(total or 0)
