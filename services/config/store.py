"""CMDB persistence: tables (SQLAlchemy Core), repositories and read queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple
from uuid import UUID, uuid4

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement, TextClause

from services.config.domain.impact import (
    Arrival,
    Direction,
    Edge,
    ImpactWalk,
    Reached,
    check_depth,
    hop_types,
    reached_by,
)
from services.config.domain.items import Cause, ChangeWindow, CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.relationships import Relationship, RelationshipType
from services.config.domain.types import BUILTIN_TYPES, BUSINESS_SERVICE, CIType
from shared.db import UtcDateTime, dialect_insert, insert_ignoring_duplicates, make_metadata, page
from shared.errors import Conflict, PreconditionFailed
from shared.inbox import inbox_table
from shared.numbering import next_number, number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)

ci_type = Table(
    "ci_type",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("attribute_schema", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)

config_item = Table(
    "config_item",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("type", String(50), nullable=False, index=True),
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
    Column("description", Text, nullable=False, server_default=""),
    Column("service_id", Uuid, index=True),
    Column("supplier_id", Uuid, index=True),
    Column("location_id", Uuid),
    Column("product_version", String(100)),
    Column("controlled", Boolean, nullable=False, server_default="0"),
    # Operational, not configuration: when discovery last saw it (no new version for that).
    Column("last_seen_at", UtcDateTime),
    Column("last_seen_by", String(100)),
)

# domain.hostname_claim: a hostname belongs to one CI at a time, retired CIs release theirs.
_CLAIMS_HOSTNAME = config_item.c.status != CIStatus.RETIRED.value
_NOT_RETIRED = config_item.c.status != CIStatus.RETIRED.value
Index(
    "uq_config_item_hostname",
    config_item.c.hostname,
    unique=True,
    postgresql_where=_CLAIMS_HOSTNAME,
    sqlite_where=_CLAIMS_HOSTNAME,
)

ci_version = Table(
    "ci_version",
    metadata,
    Column("ci_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("cause_kind", String(20), nullable=False),
    Column("cause_reference", String(100)),
    Column("changes", JSON, nullable=False),
    Column("snapshot", JSON, nullable=False),
)

ci_relationship = Table(
    "ci_relationship",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source_id", Uuid, nullable=False, index=True),
    Column("type", String(30), nullable=False),
    Column("target_id", Uuid, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("source_id", "type", "target_id", name="uq_ci_relationship_edge"),
    # The unique index serves lookups by source; this one by target, with the type and the other
    # end in it, so that impact analysis reads relationships from indexes alone.
    Index("ix_ci_relationship_target_id_type_source_id", "target_id", "type", "source_id"),
)

relationship_history = Table(
    "relationship_history",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("relationship_id", Uuid, nullable=False, index=True),
    Column("action", String(10), nullable=False),
    Column("source_id", Uuid, nullable=False, index=True),
    Column("type", String(30), nullable=False),
    Column("target_id", Uuid, nullable=False, index=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("cause_kind", String(20), nullable=False),
    Column("cause_reference", String(100)),
)

discovery_run = Table(
    "discovery_run",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source", String(100), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("report", JSON, nullable=False),
)

unauthorised_change = Table(
    "unauthorised_change",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ci_id", Uuid, nullable=False, index=True),
    Column("run_id", Uuid, nullable=False),
    Column("source", String(100), nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("differences", JSON, nullable=False),
    # The same difference seen again (a repeated run) is one finding, not a new one.
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("status", String(20), nullable=False, server_default="open"),
)

change_window = Table(
    "change_window",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("planned_start", UtcDateTime),
    Column("planned_end", UtcDateTime),
    Column("affected_ci_ids", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


# ---------------------------------------------------------------------------- types


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


# ---------------------------------------------------------------------------- configuration items


def _to_row(item: ConfigItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "name": item.name,
        "type": item.ci_type,
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
        "description": item.description,
        "service_id": item.service_id,
        "supplier_id": item.supplier_id,
        "location_id": item.location_id,
        "product_version": item.product_version,
        "controlled": item.controlled,
    }


def _to_domain(row: Any) -> ConfigItem:
    return ConfigItem(
        id=row.id,
        number=row.number,
        name=row.name,
        ci_type=row.type,
        status=CIStatus(row.status),
        criticality=Criticality(row.criticality),
        owner=row.owner,
        attributes=row.attributes,
        identifiers=Identifiers(serial=row.serial, hostname=row.hostname, fqdn=row.fqdn, cloud_id=row.cloud_id),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        description=row.description,
        service_id=row.service_id,
        supplier_id=row.supplier_id,
        location_id=row.location_id,
        product_version=row.product_version,
        controlled=row.controlled,
    )


class ConfigItemRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_many(self, items: Sequence[ConfigItem], cause: Cause) -> None:
        """Insert many new items and their first versions in two statements (discovery, imports)."""
        if not items:
            return
        await self._conn.execute(config_item.insert(), [_to_row(i) for i in items])
        await self._conn.execute(ci_version.insert(), [_version_row(i, cause, {}) for i in items])

    async def matching(self, identifiers: Mapping[str, set[str]]) -> list[ConfigItem]:
        """Non-retired CIs holding any of the given identifier values, by kind (hostname, serial, ...):
        first those found by the first kind given, then by the next, each kind by value."""
        first_found: dict[UUID, tuple[int, str]] = {}
        for position, (kind, values) in enumerate(identifiers.items()):
            column = config_item.c[kind]
            for condition in _among(self._conn, column, sorted(values)):
                for row in await self._conn.execute(select(config_item.c.id, column).where(condition, _NOT_RETIRED)):
                    first_found.setdefault(row[0], (position, row[1]))
        found = [_to_domain(row) for row in await self._rows_with_ids(first_found)]
        return sorted(found, key=lambda item: first_found[item.id])

    async def _rows_with_ids(self, ids: Iterable[UUID]) -> list[Any]:
        rows: list[Any] = []
        for condition in _among(self._conn, config_item.c.id, list(ids)):
            rows.extend(await self._conn.execute(select(config_item).where(condition)))
        return rows

    async def mark_seen(self, ids: Sequence[UUID], at: datetime, source: str) -> None:
        for condition in _among(self._conn, config_item.c.id, list(ids)):
            await self._conn.execute(update(config_item).where(condition).values(last_seen_at=at, last_seen_by=source))

    async def next_number(self) -> int:
        return await next_number(self._conn, "ci")

    async def add(self, item: ConfigItem, cause: Cause) -> None:
        try:
            await self._conn.execute(config_item.insert().values(_to_row(item)))
        except IntegrityError as exc:
            # Ids are random and numbers drawn once, so only the hostname index collides: a
            # concurrent create claimed it between the use case's check and this insert.
            raise Conflict(f"hostname {item.hostname_claim!r} is already held by another configuration item") from exc
        await self._record_version(item, cause, {})

    async def save(self, item: ConfigItem, cause: Cause, changes: dict[str, Any]) -> None:
        """Write a changed item, if nobody else changed it since it was read (its previous version)."""
        values = _saved_values(item)
        del values["id"]
        try:
            result = await self._conn.execute(
                update(config_item)
                .where(config_item.c.id == item.id, config_item.c.version == item.version - 1)
                .values(values)
            )
        except IntegrityError as exc:
            raise Conflict(f"hostname {item.hostname_claim!r} is already held by another configuration item") from exc
        if result.rowcount != 1:
            raise PreconditionFailed(f"{item.number} was changed by someone else meanwhile; read it again")
        await self._record_version(item, cause, changes)

    async def save_many(self, saved: Sequence[tuple[ConfigItem, dict[str, Any]]], cause: Cause) -> None:
        """`save` for many items (a discovery run): the same checks and rows, in a few statements.

        The items' previous versions are checked in one query, which on PostgreSQL also locks the
        rows, so nobody can change them between the check and the update; then one UPDATE and one
        INSERT of the versions, each executed for all. Should the UPDATE break the hostname index,
        the items are saved one by one instead, which reports the one at fault as `save` does."""
        if not saved:
            return
        if self._conn.dialect.name != "postgresql":
            for item, changes in saved:
                await self.save(item, cause, changes)
            return
        current: dict[UUID, int] = {}
        for condition in _among(self._conn, config_item.c.id, [item.id for item, _ in saved]):
            # In id order, so that two runs saving overlapping CIs take their locks in the same order.
            query = (
                select(config_item.c.id, config_item.c.version)
                .where(condition)
                .order_by(config_item.c.id)
                .with_for_update()
            )
            current.update((row[0], row[1]) for row in await self._conn.execute(query))
        for item, _ in saved:
            if current.get(item.id) != item.version - 1:
                raise PreconditionFailed(f"{item.number} was changed by someone else meanwhile; read it again")
        rows = [
            {f"b_{k}": v for k, v in _saved_values(item).items()} | {"b_previous": item.version - 1}
            for item, _ in saved
        ]
        statement = (
            update(config_item)
            .where(config_item.c.id == bindparam("b_id"), config_item.c.version == bindparam("b_previous"))
            .values({k: bindparam(f"b_{k}") for k in _saved_values(saved[0][0]) if k != "id"})
        )
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(statement, rows)
        except IntegrityError:
            for item, changes in saved:
                await self.save(item, cause, changes)
            return
        await self._conn.execute(ci_version.insert(), [_version_row(item, cause, changes) for item, changes in saved])

    async def _record_version(self, item: ConfigItem, cause: Cause, changes: dict[str, Any]) -> None:
        await self._conn.execute(ci_version.insert().values(_version_row(item, cause, changes)))

    async def get(self, ci_id: UUID, *, for_update: bool = False) -> ConfigItem | None:
        query = select(config_item).where(config_item.c.id == ci_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _to_domain(row) if row else None

    async def existing(self, ids: Iterable[UUID]) -> dict[UUID, ConfigItem]:
        return {row.id: _to_domain(row) for row in await self._rows_with_ids(set(ids))}

    async def holder_of_hostname(self, hostname: str) -> ConfigItem | None:
        """The CI that holds `hostname` (see `domain.hostname_claim`), if any."""
        query = select(config_item).where(config_item.c.hostname == hostname, _CLAIMS_HOSTNAME)
        row = (await self._conn.execute(query)).first()
        return _to_domain(row) if row else None


def _version_row(item: ConfigItem, cause: Cause, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "ci_id": item.id,
        "version": item.version,
        "recorded_at": item.updated_at,
        "actor": cause.actor,
        "cause_kind": cause.kind,
        "cause_reference": cause.reference,
        "changes": changes,
        "snapshot": item.snapshot(),
    }


def _chunks(ids: Sequence[UUID], size: int = 1000) -> Iterable[Sequence[UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _among(conn: AsyncConnection, column: ColumnElement[Any], values: Sequence[Any]) -> Iterable[ColumnElement[bool]]:
    """`column IN values` in as few conditions as the database allows: on PostgreSQL one, the values
    in one array parameter (one statement, prepared once, whatever their number); elsewhere one per
    1,000 values (SQLite limits the parameters of a statement)."""
    if conn.dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
        return
    for start in range(0, len(values), 1000):
        yield column.in_(values[start : start + 1000])


def _saved_values(item: ConfigItem) -> dict[str, Any]:
    """The row of `item` as `save` writes it: its id (to find it) and every column that may change."""
    values = _to_row(item)
    del values["number"], values["created_at"]
    return values


async def get_config_item(conn: AsyncConnection, ci_id: UUID) -> ConfigItem | None:
    return await ConfigItemRepository(conn).get(ci_id)


async def list_config_items(
    conn: AsyncConnection,
    *,
    ci_type: str | None,
    status: str | None,
    q: str | None,
    service_id: UUID | None,
    controlled: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[ConfigItem], int]:
    query = select(config_item)
    if ci_type is not None:
        query = query.where(config_item.c.type == ci_type)
    if status is not None:
        query = query.where(config_item.c.status == status)
    if service_id is not None:
        query = query.where(config_item.c.service_id == service_id)
    if controlled is not None:
        query = query.where(config_item.c.controlled == controlled)
    if q:
        # autoescape: a `%` or `_` typed by the user is a character, not a wildcard.
        query = query.where(config_item.c.name.icontains(q, autoescape=True))
    rows, total = await page(conn, query, config_item.c.created_at.desc(), config_item.c.id, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


async def list_versions(conn: AsyncConnection, ci_id: UUID, *, limit: int, offset: int) -> tuple[list[Any], int]:
    query = select(ci_version).where(ci_version.c.ci_id == ci_id)
    rows, total = await page(conn, query, ci_version.c.version.desc(), limit=limit, offset=offset)
    return rows, total


async def snapshot_as_of(conn: AsyncConnection, ci_id: UUID, at: datetime) -> dict[str, Any] | None:
    """The CI as it was at `at`: the newest version recorded at or before it."""
    query = (
        select(ci_version.c.snapshot)
        .where(ci_version.c.ci_id == ci_id, ci_version.c.recorded_at <= at)
        .order_by(ci_version.c.version.desc())
        .limit(1)
    )
    snapshot: dict[str, Any] | None = await conn.scalar(query)
    return snapshot


# ---------------------------------------------------------------------------- relationships


def _relationship_of(row: Any) -> Relationship:
    return Relationship(
        id=row.id,
        source_id=row.source_id,
        type=RelationshipType(row.type),
        target_id=row.target_id,
        created_at=row.created_at,
    )


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
        for condition in _among(self._conn, r.c.source_id, sorted({source for source, _, _ in wanted})):
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


async def walk(conn: AsyncConnection, root: UUID, direction: Direction, depth: int) -> list[Reached]:
    """Impact analysis from `root`, one query per level, whatever the database: on PostgreSQL each
    query follows only the relationships impact flows along and picks the way each new CI was
    first reached (`_next_level`); elsewhere `ImpactWalk` takes every relationship touching the
    level and does the rest. Both give the same result."""
    if conn.dialect.name == "postgresql":
        arrivals, _ = await _walk_in_postgresql(conn, root, direction, depth, with_summaries=False)
        return reached_by(root, arrivals)
    impact = ImpactWalk(root, direction, depth)
    while frontier := impact.frontier:
        impact.advance(await edges_touching(conn, frontier))
    return impact.result()


class Summary(NamedTuple):
    """What an impact answer shows of a CI."""

    id: UUID
    number: str
    name: str
    type: str
    status: str
    criticality: int


async def impact(
    conn: AsyncConnection, root: UUID, direction: Direction, depth: int
) -> tuple[list[Arrival], dict[UUID, Summary]]:
    """What an impact answer needs: how `walk` first reached each CI (nearest first, then by id; a
    CI's path is the path to the CI it was reached from, plus that step), and the summary of each
    reached CI that exists. On PostgreSQL the summaries come with the levels, in the same queries."""
    if conn.dialect.name == "postgresql":
        return await _walk_in_postgresql(conn, root, direction, depth, with_summaries=True)
    arrivals = [
        Arrival(r.ci_id, r.distance, r.path[-1].from_id, r.path[-1].type, r.path[-1].relationship_reversed)
        for r in await walk(conn, root, direction, depth)
    ]
    return arrivals, await summaries(conn, [a.ci_id for a in arrivals])


def _next_level(direction: Direction, *, with_summaries: bool) -> TextClause:
    """The CIs that impact reaches in one step from the CIs `:frontier`, each once, with the way
    `ImpactWalk` would take to it among several: from the lowest CI id, then by relationship type,
    source id and target id (UUIDs order here as in Python; the type by bytes, as `str` does)."""
    to_source, to_target = hop_types(direction)

    def of_types(kinds: frozenset[RelationshipType]) -> str:
        return f"r.type IN ({', '.join(repr(k.value) for k in sorted(kinds))})" if kinds else "false"

    level = f"""
        SELECT DISTINCT ON (hop.id) hop.id, hop.from_id, hop.type, hop.reversed
        FROM unnest(CAST(:frontier AS uuid[])) AS frontier(id) CROSS JOIN LATERAL (
            SELECT r.source_id AS id, frontier.id AS from_id, r.type, r.source_id, r.target_id, true AS reversed
            FROM ci_relationship AS r WHERE r.target_id = frontier.id AND {of_types(to_source)}
            UNION ALL
            SELECT r.target_id, frontier.id, r.type, r.source_id, r.target_id, false
            FROM ci_relationship AS r WHERE r.source_id = frontier.id AND {of_types(to_target)}
        ) AS hop
        ORDER BY hop.id, hop.from_id, hop.type COLLATE "C", hop.source_id, hop.target_id
    """
    if not with_summaries:
        return text(level)
    return text(
        f"""
        SELECT hop.id, hop.from_id, hop.type, hop.reversed, ci.number, ci.name, ci.type, ci.status, ci.criticality
        FROM ({level}) AS hop LEFT JOIN config_item AS ci ON ci.id = hop.id
        ORDER BY hop.id
        """
    )


_NEXT_LEVEL: Final = {
    (direction, with_summaries): _next_level(direction, with_summaries=with_summaries)
    for direction in Direction
    for with_summaries in (False, True)
}
_RELATIONSHIP_TYPES: Final = {kind.value: kind for kind in RelationshipType}


async def _walk_in_postgresql(
    conn: AsyncConnection, root: UUID, direction: Direction, depth: int, *, with_summaries: bool
) -> tuple[list[Arrival], dict[UUID, Summary]]:
    check_depth(depth)
    query, types = _NEXT_LEVEL[direction, with_summaries], _RELATIONSHIP_TYPES
    seen = {root}
    arrivals: list[Arrival] = []
    found: dict[UUID, Summary] = {}
    frontier = [root]
    for distance in range(1, depth + 1):
        # A level comes ordered by CI id; the CIs reached before are dropped here.
        result = await conn.execute(query, {"frontier": frontier})
        rows = [row for row in result.tuples().all() if row[0] not in seen]
        if not rows:
            break
        arrivals += [Arrival(row[0], distance, row[1], types[row[2]], row[3]) for row in rows]
        if with_summaries:
            for row in rows:
                if row[4] is not None:
                    found[row[0]] = Summary(row[0], row[4], row[5], row[6], row[7], row[8])
        frontier = [row[0] for row in rows]
        seen.update(frontier)
    return arrivals, found


async def edges_touching(conn: AsyncConnection, ids: Sequence[UUID]) -> list[Edge]:
    """The CI-to-CI relationships with an end in `ids` (one impact-analysis level)."""
    edges: list[Edge] = []
    r = ci_relationship
    for chunk in _chunks(list(ids)):
        query = select(r.c.source_id, r.c.type, r.c.target_id).where(
            r.c.type != RelationshipType.SUPPORTED_BY.value,
            or_(r.c.source_id.in_(chunk), r.c.target_id.in_(chunk)),
        )
        edges.extend(
            Edge(row.source_id, RelationshipType(row.type), row.target_id) for row in await conn.execute(query)
        )
    return edges


async def summaries(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, Summary]:
    """The summaries of the CIs with these ids that exist, by id."""
    c = config_item
    columns = (c.c.id, c.c.number, c.c.name, c.c.type, c.c.status, c.c.criticality)
    found: dict[UUID, Summary] = {}
    for condition in _among(conn, c.c.id, list(set(ids))):
        found.update((row[0], Summary(*row)) for row in await conn.execute(select(*columns).where(condition)))
    return found


async def business_services_among(conn: AsyncConnection, ids: Sequence[UUID]) -> set[UUID]:
    found: set[UUID] = set()
    for chunk in _chunks(list(ids)):
        query = select(config_item.c.id).where(config_item.c.id.in_(chunk), config_item.c.type == BUSINESS_SERVICE)
        found.update((await conn.scalars(query)).all())
    return found


# ---------------------------------------------------------------------------- the change read model


async def upsert_change_window(conn: AsyncConnection, window: ChangeWindow, now: datetime) -> None:
    row = {
        "change_id": window.change_id,
        "number": window.number,
        "status": window.status,
        "planned_start": window.planned_start,
        "planned_end": window.planned_end,
        "affected_ci_ids": sorted(str(i) for i in window.affected_ci_ids),
        "updated_at": now,
    }
    stmt = dialect_insert(conn, change_window).values(row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[change_window.c.change_id], set_={k: stmt.excluded[k] for k in row if k != "change_id"}
    )
    await conn.execute(stmt)


async def change_window_by_number(conn: AsyncConnection, number: str) -> ChangeWindow | None:
    row = (await conn.execute(select(change_window).where(change_window.c.number == number))).first()
    return _window_of(row) if row is not None else None


async def open_change_windows(conn: AsyncConnection) -> list[ChangeWindow]:
    """Changes that may authorise edits (approved and not closed); the domain checks window and CIs."""
    rows = await conn.execute(select(change_window).where(change_window.c.status.in_(("approved", "implementing"))))
    return [_window_of(r) for r in rows]


def _window_of(row: Any) -> ChangeWindow:
    return ChangeWindow(
        change_id=row.change_id,
        number=row.number,
        status=row.status,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        affected_ci_ids=frozenset(UUID(i) for i in row.affected_ci_ids),
    )


# ---------------------------------------------------------------------------- discovery


async def record_finding(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Store an unauthorised-change finding once; False when the same one is already recorded."""
    stmt = insert_ignoring_duplicates(conn, unauthorised_change).values(values).returning(unauthorised_change.c.id)
    return (await conn.execute(stmt)).first() is not None


async def save_run(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(discovery_run.insert().values(values))


async def get_run(conn: AsyncConnection, run_id: UUID) -> Any:
    return (await conn.execute(select(discovery_run).where(discovery_run.c.id == run_id))).first()


async def list_runs(conn: AsyncConnection, *, source: str | None, limit: int, offset: int) -> tuple[list[Any], int]:
    query = select(
        discovery_run.c.id,
        discovery_run.c.source,
        discovery_run.c.actor,
        discovery_run.c.started_at,
        discovery_run.c.finished_at,
        discovery_run.c.counts,
    )
    if source is not None:
        query = query.where(discovery_run.c.source == source)
    rows, total = await page(conn, query, discovery_run.c.started_at.desc(), limit=limit, offset=offset)
    return rows, total


# ---------------------------------------------------------------------------- baselines and audit

baseline = Table(
    "baseline",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("scope", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("item_count", Integer, nullable=False),
)

baseline_item = Table(
    "baseline_item",
    metadata,
    Column("baseline_id", Uuid, primary_key=True),
    Column("ci_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("snapshot", JSON, nullable=False),
)


async def save_baseline(conn: AsyncConnection, values: dict[str, Any], items: Sequence[ConfigItem]) -> None:
    await conn.execute(baseline.insert().values(values))
    if items:
        await conn.execute(
            baseline_item.insert(),
            [
                {"baseline_id": values["id"], "ci_id": i.id, "version": i.version, "snapshot": i.snapshot()}
                for i in items
            ],
        )


async def get_baseline(conn: AsyncConnection, baseline_id: UUID) -> Any:
    return (await conn.execute(select(baseline).where(baseline.c.id == baseline_id))).first()


async def baseline_snapshots(conn: AsyncConnection, baseline_id: UUID) -> dict[str, dict[str, Any]]:
    rows = await conn.execute(select(baseline_item.c.snapshot).where(baseline_item.c.baseline_id == baseline_id))
    return {r.snapshot["id"]: r.snapshot for r in rows}


async def list_baselines(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[Any], int]:
    return await page(conn, select(baseline), baseline.c.created_at.desc(), limit=limit, offset=offset)


async def items_by_query(
    conn: AsyncConnection, *, ci_type: str | None, status: str | None, service_id: UUID | None, limit: int
) -> list[ConfigItem]:
    query = select(config_item)
    if ci_type is not None:
        query = query.where(config_item.c.type == ci_type)
    if status is not None:
        query = query.where(config_item.c.status == status)
    if service_id is not None:
        query = query.where(config_item.c.service_id == service_id)
    rows = await conn.execute(query.order_by(config_item.c.number).limit(limit))
    return [_to_domain(r) for r in rows]


async def open_findings(conn: AsyncConnection, *, limit: int) -> list[Any]:
    query = (
        select(unauthorised_change, config_item.c.number, config_item.c.name)
        .join(config_item, config_item.c.id == unauthorised_change.c.ci_id)
        .where(unauthorised_change.c.status == "open")
        .order_by(unauthorised_change.c.detected_at.desc())
        .limit(limit)
    )
    return list(await conn.execute(query))


async def not_seen_since(conn: AsyncConnection, cutoff: datetime, *, limit: int) -> list[Any]:
    """Live CIs that discovery saw once but not since `cutoff`."""
    query = (
        select(
            config_item.c.id,
            config_item.c.number,
            config_item.c.name,
            config_item.c.type,
            config_item.c.last_seen_at,
            config_item.c.last_seen_by,
        )
        .where(config_item.c.last_seen_at < cutoff, config_item.c.status != CIStatus.RETIRED.value)
        .order_by(config_item.c.last_seen_at)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def controlled_changed_without_change(conn: AsyncConnection, *, limit: int) -> list[Any]:
    """Versions of CIs under change control whose cause is not a change (edits made around the control)."""
    query = (
        select(
            ci_version.c.ci_id,
            ci_version.c.version,
            ci_version.c.recorded_at,
            ci_version.c.actor,
            ci_version.c.cause_kind,
            ci_version.c.changes,
            ci_version.c.snapshot,
            config_item.c.number,
            config_item.c.name,
        )
        .join(config_item, config_item.c.id == ci_version.c.ci_id)
        .where(config_item.c.controlled.is_(True), ci_version.c.cause_kind != "change", ci_version.c.version > 1)
        .order_by(ci_version.c.recorded_at.desc())
        .limit(limit)
    )
    # Controlled when the version was made (its snapshot says so), and not just the switch to control.
    return [r for r in await conn.execute(query) if r.snapshot.get("controlled") and "controlled" not in r.changes]


async def business_services(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[ConfigItem], int]:
    query = select(config_item).where(
        config_item.c.type == BUSINESS_SERVICE, config_item.c.status != CIStatus.RETIRED.value
    )
    rows, total = await page(conn, query, config_item.c.name, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


async def member_counts(conn: AsyncConnection, service_ids: Sequence[UUID]) -> dict[UUID, int]:
    if not service_ids:
        return {}
    query = (
        select(config_item.c.service_id, func.count())
        .where(config_item.c.service_id.in_(list(service_ids)), config_item.c.status != CIStatus.RETIRED.value)
        .group_by(config_item.c.service_id)
    )
    return {r[0]: int(r[1]) for r in await conn.execute(query)}


# ---------------------------------------------------------------------------- bulk


async def items_by_numbers(conn: AsyncConnection, numbers: Iterable[str]) -> dict[str, ConfigItem]:
    wanted = sorted(set(numbers))
    found: dict[str, ConfigItem] = {}
    for start in range(0, len(wanted), 1000):
        query = select(config_item).where(config_item.c.number.in_(wanted[start : start + 1000]))
        for row in await conn.execute(query):
            found[row.number] = _to_domain(row)
    return found


async def export_items(conn: AsyncConnection, *, ci_type: str | None, status: str | None) -> list[ConfigItem]:
    query = select(config_item)
    if ci_type is not None:
        query = query.where(config_item.c.type == ci_type)
    if status is not None:
        query = query.where(config_item.c.status == status)
    return [_to_domain(r) for r in await conn.execute(query.order_by(config_item.c.number))]


async def export_relationships(conn: AsyncConnection) -> list[Any]:
    """CI-to-CI relationships with both ends' numbers (stable across CMDBs, unlike ids)."""
    source, target, r = config_item.alias("source"), config_item.alias("target"), ci_relationship
    query = (
        select(source.c.number.label("source"), r.c.type, target.c.number.label("target"))
        .join(source, source.c.id == r.c.source_id)
        .join(target, target.c.id == r.c.target_id)
        .order_by(source.c.number, r.c.type, target.c.number)
    )
    return list(await conn.execute(query))


async def changes_touching(conn: AsyncConnection, ci_id: UUID) -> tuple[list[Any], list[ChangeWindow]]:
    """The changes recorded as causes of this CI's versions, and the open changes that name it."""
    applied = await conn.execute(
        select(
            ci_version.c.cause_reference.label("number"),
            func.min(ci_version.c.recorded_at).label("first"),
            func.max(ci_version.c.version).label("version"),
        )
        .where(ci_version.c.ci_id == ci_id, ci_version.c.cause_kind == "change")
        .group_by(ci_version.c.cause_reference)
        .order_by(func.min(ci_version.c.recorded_at))
    )
    planned = [w for w in await open_change_windows(conn) if ci_id in w.affected_ci_ids]
    return list(applied), planned
