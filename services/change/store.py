"""Change persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain import Change, ChangeStatus, ChangeType, CmdbOutcome, Risk, Vote
from services.change.schedule import Blackout, Slot
from shared.db import UtcDateTime, make_metadata, page
from shared.errors import PreconditionFailed
from shared.inbox import inbox_table
from shared.numbering import next_number, number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)

change = Table(
    "change",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("justification", Text, nullable=False, server_default=""),
    Column("type", String(20), nullable=False, index=True),
    Column("category", String(50)),
    Column("status", String(20), nullable=False, index=True),
    Column("requester", String(200), nullable=False),
    Column("planned_start", UtcDateTime),
    Column("planned_end", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("risk", String(10)),
    Column("planned_ci_changes", JSON, nullable=False, server_default="[]"),
    Column("cmdb_outcome", String(10), nullable=False, server_default="none"),
    Column("cmdb_errors", JSON, nullable=False, server_default="[]"),
    Column("notes", Text, nullable=False, server_default=""),
    Column("risk_reasons", JSON, nullable=False, server_default="[]"),
    Column("failed_at", UtcDateTime),
    Column("template_id", Uuid),
    Column("implementation_plan", Text, nullable=False, server_default=""),
    Column("backout_plan", Text, nullable=False, server_default=""),
    Column("test_plan", Text, nullable=False, server_default=""),
)

# One row per service a change names; indexed by service for the pipeline gate ("which changes
# are open for this service now").
change_service = Table(
    "change_service",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", Uuid, primary_key=True, index=True),
)

# Every approver's decision, kept: who, approve or reject, why, when (ISO/IEC 20000-1 9.2 records).
change_vote = Table(
    "change_vote",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("voter", String(200), primary_key=True),
    Column("approve", Boolean, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("at", UtcDateTime, nullable=False),
)

# One row per CI a change affects; indexed by CI for "which changes touch this CI".
change_affected_ci = Table(
    "change_affected_ci",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("ci_id", Uuid, primary_key=True, index=True),
)


def _to_row(item: Change) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "title": item.title,
        "description": item.description,
        "justification": item.justification,
        "type": item.change_type.value,
        "category": item.category,
        "status": item.status.value,
        "requester": item.requester,
        "planned_start": item.planned_start,
        "planned_end": item.planned_end,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": item.version,
        "risk": item.risk.value if item.risk else None,
        "planned_ci_changes": [dict(c) for c in item.planned_ci_changes],
        "cmdb_outcome": item.cmdb_outcome.value,
        "cmdb_errors": [dict(e) for e in item.cmdb_errors],
        "notes": item.notes,
        "risk_reasons": list(item.risk_reasons),
        "failed_at": item.failed_at,
        "template_id": item.template_id,
        "implementation_plan": item.implementation_plan,
        "backout_plan": item.backout_plan,
        "test_plan": item.test_plan,
    }


def _to_domain(
    row: Any, affected_ci_ids: list[UUID], votes: Sequence[Vote] = (), service_ids: Sequence[UUID] = ()
) -> Change:
    return Change(
        id=row.id,
        number=row.number,
        title=row.title,
        description=row.description,
        justification=row.justification,
        change_type=ChangeType(row.type),
        category=row.category,
        status=ChangeStatus(row.status),
        requester=row.requester,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        affected_ci_ids=tuple(sorted(affected_ci_ids)),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        risk=Risk(row.risk) if row.risk else None,
        planned_ci_changes=tuple(row.planned_ci_changes),
        cmdb_outcome=CmdbOutcome(row.cmdb_outcome),
        cmdb_errors=tuple(row.cmdb_errors),
        notes=row.notes,
        risk_reasons=tuple(row.risk_reasons),
        failed_at=row.failed_at,
        votes=tuple(votes),
        service_ids=tuple(sorted(service_ids)),
        template_id=row.template_id,
        implementation_plan=row.implementation_plan,
        backout_plan=row.backout_plan,
        test_plan=row.test_plan,
    )


async def _with_affected_cis(conn: AsyncConnection, rows: Sequence[Any]) -> list[Change]:
    """Domain objects for change rows, with their CIs fetched in one query for all of them."""
    if not rows:
        return []
    links = await conn.execute(
        select(change_affected_ci).where(change_affected_ci.c.change_id.in_([r.id for r in rows]))
    )
    cis: defaultdict[UUID, list[UUID]] = defaultdict(list)
    for link in links:
        cis[link.change_id].append(link.ci_id)
    vote_rows = await conn.execute(
        select(change_vote).where(change_vote.c.change_id.in_([r.id for r in rows])).order_by(change_vote.c.at)
    )
    votes: defaultdict[UUID, list[Vote]] = defaultdict(list)
    for v in vote_rows:
        votes[v.change_id].append(Vote(v.voter, v.approve, v.comment, v.at))
    service_rows = await conn.execute(
        select(change_service).where(change_service.c.change_id.in_([r.id for r in rows]))
    )
    services: defaultdict[UUID, list[UUID]] = defaultdict(list)
    for s in service_rows:
        services[s.change_id].append(s.service_id)
    return [_to_domain(r, cis[r.id], votes[r.id], services[r.id]) for r in rows]


class ChangeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "change")

    async def add(self, item: Change) -> None:
        await self._conn.execute(change.insert().values(_to_row(item)))
        if item.affected_ci_ids:
            await self._conn.execute(
                change_affected_ci.insert(), [{"change_id": item.id, "ci_id": ci} for ci in item.affected_ci_ids]
            )
        if item.service_ids:
            await self._conn.execute(
                change_service.insert(), [{"change_id": item.id, "service_id": s} for s in item.service_ids]
            )

    async def save(self, item: Change, expected_version: int) -> None:
        """Write a changed change if nobody else did since it was read; add its new votes."""
        values = _to_row(item)
        del values["id"], values["number"], values["created_at"]
        result = await self._conn.execute(
            update(change).where(change.c.id == item.id, change.c.version == expected_version).values(values)
        )
        if result.rowcount != 1:
            raise PreconditionFailed(f"{item.number} was changed by someone else meanwhile; read it again")
        known = set(
            (await self._conn.scalars(select(change_vote.c.voter).where(change_vote.c.change_id == item.id))).all()
        )
        new = [v for v in item.votes if v.voter not in known]
        if new:
            await self._conn.execute(
                change_vote.insert(),
                [
                    {"change_id": item.id, "voter": v.voter, "approve": v.approve, "comment": v.comment, "at": v.at}
                    for v in new
                ],
            )

    async def get(self, change_id: UUID, *, for_update: bool = False) -> Change | None:
        query = select(change).where(change.c.id == change_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = (await self._conn.execute(query)).all()
        found = await _with_affected_cis(self._conn, rows)
        return found[0] if found else None


async def get_change(conn: AsyncConnection, change_id: UUID) -> Change | None:
    return await ChangeRepository(conn).get(change_id)


async def list_changes(
    conn: AsyncConnection,
    *,
    status: str | None,
    change_type: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Change], int]:
    query = select(change)
    if status is not None:
        query = query.where(change.c.status == status)
    if change_type is not None:
        query = query.where(change.c.type == change_type)
    rows, total = await page(conn, query, change.c.created_at.desc(), change.c.id, limit=limit, offset=offset)
    return await _with_affected_cis(conn, rows), total


async def recent_history_on(
    conn: AsyncConnection, ci_ids: Sequence[UUID], since: datetime, *, exclude: UUID
) -> tuple[int, int]:
    """(changes implemented or failed on any of these CIs since `since`, how many of them failed)."""
    if not ci_ids:
        return 0, 0
    finished = ("implemented", "failed", "reviewed", "closed")
    query = (
        select(change.c.id, change.c.failed_at)
        .distinct()
        .join(change_affected_ci, change_affected_ci.c.change_id == change.c.id)
        .where(
            change_affected_ci.c.ci_id.in_(list(ci_ids)),
            change.c.id != exclude,
            change.c.status.in_(finished),
            change.c.updated_at >= since,
        )
    )
    rows = (await conn.execute(query)).all()
    return len(rows), sum(1 for r in rows if r.failed_at is not None)


# ---------------------------------------------------------------------------- the schedule

blackout_window = Table(
    "blackout_window",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("start", UtcDateTime, nullable=False, index=True),
    Column("end", UtcDateTime, nullable=False),
    Column("ci_ids", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

ON_THE_SCHEDULE = ("approved", "scheduled", "implementing")


async def slots_between(conn: AsyncConnection, start: datetime, end: datetime) -> list[Slot]:
    """Changes on the schedule (approved, scheduled, implementing) whose window overlaps [start, end)."""
    query = select(change).where(
        change.c.status.in_(ON_THE_SCHEDULE),
        change.c.planned_start.is_not(None),
        change.c.planned_start < end,
        change.c.planned_end > start,
    )
    items = await _with_affected_cis(conn, (await conn.execute(query.order_by(change.c.planned_start))).all())
    return [slot_of(i) for i in items if i.planned_start and i.planned_end]


async def scheduled_changes(conn: AsyncConnection, start: datetime, end: datetime) -> list[Change]:
    query = select(change).where(
        change.c.status.in_(ON_THE_SCHEDULE),
        change.c.planned_start.is_not(None),
        change.c.planned_start < end,
        change.c.planned_end > start,
    )
    return await _with_affected_cis(conn, (await conn.execute(query.order_by(change.c.planned_start))).all())


def slot_of(item: Change) -> Slot:
    assert item.planned_start is not None and item.planned_end is not None
    return Slot(item.id, item.number, item.planned_start, item.planned_end, frozenset(item.affected_ci_ids))


async def blackouts_between(conn: AsyncConnection, start: datetime, end: datetime) -> list[Blackout]:
    b = blackout_window
    rows = await conn.execute(select(b).where(b.c.start < end, b.c.end > start).order_by(b.c.start))
    return [Blackout(r.id, r.name, r.start, r.end, frozenset(UUID(i) for i in r.ci_ids)) for r in rows]


async def add_blackout(conn: AsyncConnection, blackout: Blackout, *, actor: str, now: datetime) -> None:
    await conn.execute(
        blackout_window.insert().values(
            id=blackout.id,
            name=blackout.name,
            start=blackout.start,
            end=blackout.end,
            ci_ids=sorted(str(i) for i in blackout.ci_ids),
            created_by=actor,
            created_at=now,
        )
    )


async def delete_blackout(conn: AsyncConnection, blackout_id: UUID) -> bool:
    result = await conn.execute(delete(blackout_window).where(blackout_window.c.id == blackout_id))
    return bool(result.rowcount)
