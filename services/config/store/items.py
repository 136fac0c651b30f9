"""CMDB store, configuration items: the repository (one CI, or many in a few statements for
discovery and imports), its versions, the searches, and the batching helpers of every area."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import any_, bindparam, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from services.config.domain.items import Cause, CIStatus, ConfigItem, Criticality, Identifiers
from services.config.store.tables import CLAIMS_HOSTNAME, NOT_RETIRED, ci_version, config_item
from shared.db import lock_until_commit, page, record_of, row_by_id, row_values, where_given
from shared.errors import Conflict, PreconditionFailed
from shared.numbering import next_number


def _to_row(item: ConfigItem) -> dict[str, Any]:
    # last_seen_at/_by are discovery's own (operational, not configuration): a save leaves them.
    return row_values(
        config_item,
        item,
        omit=("last_seen_at", "last_seen_by"),
        type=item.ci_type,
        status=item.status.value,
        criticality=int(item.criticality),
        serial=item.identifiers.serial,
        hostname=item.identifiers.hostname,
        fqdn=item.identifiers.fqdn,
        cloud_id=item.identifiers.cloud_id,
    )


def item_of(row: Any) -> ConfigItem:
    return record_of(
        ConfigItem,
        row,
        ci_type=row.type,
        status=CIStatus(row.status),
        criticality=Criticality(row.criticality),
        identifiers=Identifiers(serial=row.serial, hostname=row.hostname, fqdn=row.fqdn, cloud_id=row.cloud_id),
    )


IDENTIFIER_LOCKS = 256
"""Buckets of identifier values a writer locks: few enough for the lock table, many enough that
runs about other hosts seldom wait."""
IDENTIFIER_LOCK_SPACE = 0x4349  # "CI": the first key of the two-key advisory locks, apart from others


class ConfigItemRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_many(self, items: Sequence[ConfigItem], cause: Cause) -> None:
        """Insert many new items and their first versions in two statements (discovery, imports)."""
        if not items:
            return
        try:
            await self._conn.execute(config_item.insert(), [_to_row(i) for i in items])
        except IntegrityError as exc:  # a writer that took no identifier lock claimed a hostname first
            raise Conflict("a hostname of these items was claimed by another configuration item meanwhile") from exc
        await self._conn.execute(ci_version.insert(), [_version_row(i, cause, {}) for i in items])

    async def lock_identifiers(self, identifiers: Mapping[str, set[str]]) -> None:
        """Serialise, until commit, the writers that may claim any of these identifier values (two
        discovery runs seeing the same new host on two replicas): the second waits, then finds the
        first's CI instead of breaking the hostname index. The values fall into IDENTIFIER_LOCKS
        buckets."""
        values = [f"{kind}:{value.lower()}" for kind, vs in identifiers.items() for value in vs]
        await lock_until_commit(self._conn, values, space=IDENTIFIER_LOCK_SPACE, buckets=IDENTIFIER_LOCKS)

    async def matching(self, identifiers: Mapping[str, set[str]]) -> list[ConfigItem]:
        """Non-retired CIs holding any of the given identifier values, by kind (hostname, serial, ...):
        first those found by the first kind given, then by the next, each kind by value."""
        first_found: dict[UUID, tuple[int, str]] = {}
        for position, (kind, values) in enumerate(identifiers.items()):
            column = config_item.c[kind]
            for condition in among(self._conn, column, sorted(values)):
                for row in await self._conn.execute(select(config_item.c.id, column).where(condition, NOT_RETIRED)):
                    first_found.setdefault(row[0], (position, row[1]))
        found = [item_of(row) for row in await self._rows_with_ids(first_found)]
        return sorted(found, key=lambda item: first_found[item.id])

    async def _rows_with_ids(self, ids: Iterable[UUID]) -> list[Any]:
        rows: list[Any] = []
        for condition in among(self._conn, config_item.c.id, list(ids)):
            rows.extend(await self._conn.execute(select(config_item).where(condition)))
        return rows

    async def mark_seen(self, ids: Sequence[UUID], at: datetime, source: str) -> None:
        for condition in among(self._conn, config_item.c.id, list(ids)):
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
        for condition in among(self._conn, config_item.c.id, [item.id for item, _ in saved]):
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
        row = await row_by_id(self._conn, config_item, ci_id, for_update=for_update)
        return item_of(row) if row else None

    async def existing(self, ids: Iterable[UUID]) -> dict[UUID, ConfigItem]:
        return {row.id: item_of(row) for row in await self._rows_with_ids(set(ids))}

    async def holder_of_hostname(self, hostname: str) -> ConfigItem | None:
        """The CI that holds `hostname` (see `domain.hostname_claim`), if any."""
        query = select(config_item).where(config_item.c.hostname == hostname, CLAIMS_HOSTNAME)
        row = (await self._conn.execute(query)).first()
        return item_of(row) if row else None


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


def chunks(ids: Sequence[UUID], size: int = 1000) -> Iterable[Sequence[UUID]]:
    """`ids` in slices of `size` (one `IN` list per statement stays within every database's limits)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def among(conn: AsyncConnection, column: ColumnElement[Any], values: Sequence[Any]) -> Iterable[ColumnElement[bool]]:
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
    query = where_given(
        select(config_item), config_item, type=ci_type, status=status, service_id=service_id, controlled=controlled
    )
    if q:
        # autoescape: a `%` or `_` typed by the user is a character, not a wildcard.
        query = query.where(config_item.c.name.icontains(q, autoescape=True))
    rows, total = await page(conn, query, config_item.c.created_at.desc(), config_item.c.id, limit=limit, offset=offset)
    return [item_of(r) for r in rows], total


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
