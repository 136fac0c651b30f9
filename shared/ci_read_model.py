"""A service's local copy of the CIs it references, kept current from config's CI events.

Incidents, changes and contracts name CIs. Asking config over HTTP on every write would couple
their availability to config's; instead each service mounts this small table and its handlers:

    ci_read_model = CIReadModel(metadata)                  # in store.py
    HANDLERS = {**ci_read_model.handlers, ...}             # in worker.py
    create_ci_read_model_tables()                          # in the service's migration
    record = await ci_read_model.get(conn, ci_id)          # in a use case

Events may arrive late or twice: a row only moves forward (a higher CI version wins), so a
stale `ci.updated.v1` never undoes a newer one. Relationships are kept too (from
`ci.relationship_changed.v1`), so a service can tell which of its CIs depend on each other.
The CI's identifiers (serial, host name, FQDN, cloud id) are kept when the event carries them,
so a CI named by a monitoring tool (`called`) is found without config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Integer, MetaData, String, Table, TextClause, Uuid, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import UtcDateTime, upsert_statement
from shared.events import CloudEvent
from shared.events.config import ConfigItemCreated, ConfigItemRelationshipChanged, ConfigItemRetired, ConfigItemUpdated
from shared.messaging import Handler, NotYet
from shared.uow import UnitOfWork

RETIRED = "retired"


class CIUnknownYet(NotYet):
    """An event about a CI this read model has not been told of yet (its creation is still on its
    way: the consumer handles events in any order). The consumer delivers it again until the
    creation is in, rather than dropping what the event says."""


@dataclass(frozen=True)
class CIRecord:
    """What a service knows of a CI without asking config."""

    id: UUID
    number: str
    name: str
    type: str
    status: str
    criticality: int
    service_id: UUID | None
    supplier_id: UUID | None
    version: int
    serial: str | None = None
    hostname: str | None = None
    """Host name and FQDN are kept lower-case: DNS names compare without case."""
    fqdn: str | None = None
    cloud_id: str | None = None

    @property
    def retired(self) -> bool:
        return self.status == RETIRED


def _ci_table(metadata: MetaData) -> Table:
    return Table(
        "ci_read_model",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("number", String(20), nullable=False),
        Column("name", String(200), nullable=False),
        Column("type", String(100), nullable=False),
        Column("status", String(30), nullable=False),
        Column("criticality", Integer, nullable=False),
        Column("service_id", Uuid, index=True),
        Column("supplier_id", Uuid, index=True),
        Column("version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        *_identifier_columns(),
    )


def _identifier_columns() -> list[Column[Any]]:
    return [
        Column("serial", String(100)),
        Column("hostname", String(253)),
        Column("fqdn", String(253)),
        Column("cloud_id", String(500)),
    ]


def _relationship_table(metadata: MetaData) -> Table:
    return Table(
        "ci_relationship_read_model",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("source_id", Uuid, nullable=False, index=True),
        Column("type", String(50), nullable=False),
        Column("target_id", Uuid, nullable=False, index=True),
    )


class CIReadModel:
    def __init__(self, metadata: MetaData) -> None:
        self.cis = _ci_table(metadata)
        self.relationships = _relationship_table(metadata)
        self._upserts: dict[tuple[str, ...], TextClause] = {}

    @property
    def handlers(self) -> Mapping[str, Handler]:
        """The consumed routing keys -> handlers, to merge into a service's HANDLERS."""
        return {
            ConfigItemCreated.routing_key: self._on_created,
            ConfigItemUpdated.routing_key: self._on_updated,
            ConfigItemRetired.routing_key: self._on_retired,
            ConfigItemRelationshipChanged.routing_key: self._on_relationship_changed,
        }

    async def get(self, conn: AsyncConnection, ci_id: UUID) -> CIRecord | None:
        row = (await conn.execute(select(self.cis).where(self.cis.c.id == ci_id))).mappings().first()
        return _record(row) if row is not None else None

    async def get_many(self, conn: AsyncConnection, ci_ids: Iterable[UUID]) -> dict[UUID, CIRecord]:
        ids = list(set(ci_ids))
        if not ids:
            return {}
        rows = (await conn.execute(select(self.cis).where(self.cis.c.id.in_(ids)))).mappings()
        return {row["id"]: _record(row) for row in rows}

    async def called(self, conn: AsyncConnection, reference: str) -> list[CIRecord]:
        """The CIs `reference` may name: by number or name (without case), host name or FQDN
        (without case), serial or cloud id (exactly). Several when it is ambiguous."""
        ref = reference.strip()
        folded = ref.lower()
        t = self.cis
        query = select(t).where(
            or_(
                func.lower(t.c.number) == folded,
                func.lower(t.c.name) == folded,
                t.c.hostname == folded,
                t.c.fqdn == folded,
                t.c.serial == ref,
                t.c.cloud_id == ref,
            )
        )
        return [_record(row) for row in (await conn.execute(query.order_by(t.c.number).limit(50))).mappings()]

    async def neighbours(self, conn: AsyncConnection, ci_ids: Iterable[UUID]) -> set[tuple[UUID, UUID]]:
        """The relationships touching these CIs, as (source, target) pairs, whatever their type."""
        ids = list(set(ci_ids))
        if not ids:
            return set()
        t = self.relationships
        rows = await conn.execute(
            select(t.c.source_id, t.c.target_id).where(or_(t.c.source_id.in_(ids), t.c.target_id.in_(ids)))
        )
        return {(row.source_id, row.target_id) for row in rows}

    async def upsert(self, conn: AsyncConnection, values: dict[str, Any]) -> None:
        """Insert the CI, or move it forward when `values` carries a newer version."""
        columns = tuple(values)
        stmt = self._upserts.get(columns)
        if stmt is None:  # one statement per set of columns, so SQLAlchemy compiles it once
            stmt = self._upserts[columns] = upsert_statement(self.cis, columns, key=("id",), newer="version")
        await conn.execute(stmt, values)

    async def _on_created(self, event: CloudEvent, uow: UnitOfWork) -> None:
        data = event.data_as(ConfigItemCreated)
        await self.upsert(uow.connection, _values(data, data.version, data.created_at))

    async def _on_updated(self, event: CloudEvent, uow: UnitOfWork) -> None:
        data = event.data_as(ConfigItemUpdated)
        await self.upsert(uow.connection, _values(data, data.version, data.updated_at))

    async def _on_retired(self, event: CloudEvent, uow: UnitOfWork) -> None:
        data = event.data_as(ConfigItemRetired)
        t = self.cis
        moved = await uow.connection.execute(
            t.update()
            .where(t.c.id == data.ci_id, t.c.version < data.version)
            .values(status=RETIRED, version=data.version, updated_at=data.retired_at)
        )
        if moved.rowcount == 0 and await self.get(uow.connection, data.ci_id) is None:
            raise CIUnknownYet(f"{data.number} ({data.ci_id}) retired before this service learnt of it: retry")

    async def _on_relationship_changed(self, event: CloudEvent, uow: UnitOfWork) -> None:
        data = event.data_as(ConfigItemRelationshipChanged)
        if data.target_kind != "ci":
            return
        t = self.relationships
        conn = uow.connection
        await conn.execute(delete(t).where(t.c.id == data.relationship_id))
        if data.action == "added":
            await conn.execute(
                t.insert().values(
                    id=data.relationship_id, source_id=data.source_id, type=data.type, target_id=data.target_id
                )
            )


def _values(data: ConfigItemCreated | ConfigItemUpdated, version: int, at: datetime) -> dict[str, Any]:
    values = {
        "id": data.ci_id,
        "number": data.number,
        "name": data.name,
        "type": data.type,
        "status": data.status,
        "criticality": data.criticality,
        "service_id": data.service_id,
        "supplier_id": data.supplier_id,
        "version": version,
        "updated_at": at,
    }
    if data.identifiers is not None:  # an older producer's event says nothing of them: keep what is known
        ids = data.identifiers
        values |= {
            "serial": ids.serial,
            "hostname": ids.hostname.lower() if ids.hostname else None,
            "fqdn": ids.fqdn.lower() if ids.fqdn else None,
            "cloud_id": ids.cloud_id,
        }
    return values


def _record(row: Any) -> CIRecord:
    return CIRecord(
        id=row["id"],
        number=row["number"],
        name=row["name"],
        type=row["type"],
        status=row["status"],
        criticality=row["criticality"],
        service_id=row["service_id"],
        supplier_id=row["supplier_id"],
        version=row["version"],
        serial=row["serial"],
        hostname=row["hostname"],
        fqdn=row["fqdn"],
        cloud_id=row["cloud_id"],
    )


def create_ci_read_model_tables() -> None:
    """In the migration of a service that mounts `CIReadModel`."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "ci_read_model",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("criticality", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ci_read_model")),
    )
    op.create_index(op.f("ix_ci_read_model_service_id"), "ci_read_model", ["service_id"])
    op.create_index(op.f("ix_ci_read_model_supplier_id"), "ci_read_model", ["supplier_id"])
    op.create_table(
        "ci_relationship_read_model",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ci_relationship_read_model")),
    )
    op.create_index(op.f("ix_ci_relationship_read_model_source_id"), "ci_relationship_read_model", ["source_id"])
    op.create_index(op.f("ix_ci_relationship_read_model_target_id"), "ci_relationship_read_model", ["target_id"])


def add_ci_read_model_identifiers() -> None:
    """In the migration that adds the CI's identifiers to a service's `ci_read_model`."""
    from alembic import op

    with op.batch_alter_table("ci_read_model") as batch:
        for column in _identifier_columns():
            batch.add_column(column)


def drop_ci_read_model_identifiers() -> None:
    from alembic import op

    with op.batch_alter_table("ci_read_model") as batch:
        for column in reversed(_identifier_columns()):
            batch.drop_column(column.name)


def drop_ci_read_model_tables() -> None:
    from alembic import op

    op.drop_table("ci_relationship_read_model")
    op.drop_table("ci_read_model")
