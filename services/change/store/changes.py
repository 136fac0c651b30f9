"""Change persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from services.change.design import DesignRecord, GoLiveAcceptance, ServiceLevelTarget, ServiceTransition
from services.change.domain import (
    Change,
    ChangeStatus,
    ChangeType,
    CmdbOutcome,
    IncidentLink,
    PostImplementationReview,
    Risk,
    Vote,
)
from services.change.maintenance import MaintenanceWindow
from services.change.schedule import Blackout, Slot
from shared.ci_read_model import CIReadModel
from shared.db import UtcDateTime, make_metadata, page, update_versioned
from shared.inbox import inbox_table
from shared.numbering import next_number, number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)
# The CIs (and their relationships) this service knows from config's events: affected CIs are
# checked against it, a change's services derive from it, dependent-CI conflicts walk it.
ci_read_model = CIReadModel(metadata)

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
    Column("major", Boolean, nullable=False, server_default="false"),
    Column("service_transition", String(20)),
    Column("backed_out", Boolean),
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

# One row per CI a change affects; indexed by CI for "which changes touch this CI", covering the
# change id so conflict detection reads the index alone (migration 0006).
change_affected_ci = Table(
    "change_affected_ci",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("ci_id", Uuid, primary_key=True),
    Index("ix_change_affected_ci_ci_id_change_id", "ci_id", "change_id"),
)


# The services a change touches (its CIs' services plus the ones named), by service for the
# maintenance windows and for "which changes touch this service".
change_service = Table(
    "change_service",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", Uuid, primary_key=True, index=True),
)

# Clause 5: the design and transition record of a major or service-level change, and its go-live acceptance.
change_design = Table(
    "change_design",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("requirements", Text, nullable=False),
    Column("acceptance_criteria", JSON, nullable=False),
    Column("service_level_targets", JSON, nullable=False),
    Column("capacity", Text, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("go_live_accepted", Boolean),
    Column("go_live_by", String(200)),
    Column("go_live_at", UtcDateTime),
    Column("go_live_comment", Text),
)

# The post-implementation review, once per change.
change_review = Table(
    "change_review",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("outcome", Text, nullable=False),
    Column("lessons", Text, nullable=False),
    Column("objectives_met", Boolean),
    Column("incident_ids", JSON, nullable=False),
    Column("reviewed_by", String(200), nullable=False),
    Column("reviewed_at", UtcDateTime, nullable=False),
)

# Incidents the incident service linked to a change (incident.linked_to_change.v1), kept once:
# the change shows them and its post-implementation review records them (9.2), its releases and
# deployments show them too (9.3: incidents related to a release after it went out).
change_incident_link = Table(
    "change_incident_link",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("incident_id", Uuid, primary_key=True),
    Column("incident_number", String(20), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("ci_id", Uuid),
    Column("service_id", Uuid),
    Column("linked_at", UtcDateTime, nullable=False),
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
        "major": item.major,
        "service_transition": item.service_transition.value if item.service_transition else None,
        "backed_out": item.backed_out,
    }


def _design_row(change_id: UUID, design: DesignRecord) -> dict[str, Any]:
    go_live = design.go_live
    return {
        "change_id": change_id,
        "requirements": design.requirements,
        "acceptance_criteria": list(design.acceptance_criteria),
        "service_level_targets": [{"metric": t.metric, "target": t.target} for t in design.service_level_targets],
        "capacity": design.capacity,
        "updated_by": design.updated_by,
        "updated_at": design.updated_at,
        "go_live_accepted": go_live.accepted if go_live else None,
        "go_live_by": go_live.by if go_live else None,
        "go_live_at": go_live.at if go_live else None,
        "go_live_comment": go_live.comment if go_live else None,
    }


def _design(row: Any) -> DesignRecord:
    go_live = None
    if row.go_live_accepted is not None:
        go_live = GoLiveAcceptance(row.go_live_accepted, row.go_live_by, row.go_live_at, row.go_live_comment or "")
    return DesignRecord(
        requirements=row.requirements,
        acceptance_criteria=tuple(row.acceptance_criteria),
        service_level_targets=tuple(ServiceLevelTarget(t["metric"], t["target"]) for t in row.service_level_targets),
        capacity=row.capacity,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        go_live=go_live,
    )


@dataclass
class _Parts:
    """What a change holds beside its row, fetched for many changes at once."""

    cis: list[UUID] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    services: list[UUID] = field(default_factory=list)
    incidents: list[IncidentLink] = field(default_factory=list)
    design: DesignRecord | None = None
    pir: PostImplementationReview | None = None


def _to_domain(row: Any, parts: _Parts) -> Change:
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
        affected_ci_ids=tuple(sorted(parts.cis)),
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
        votes=tuple(parts.votes),
        template_id=row.template_id,
        implementation_plan=row.implementation_plan,
        backout_plan=row.backout_plan,
        test_plan=row.test_plan,
        service_ids=tuple(sorted(parts.services)),
        major=row.major,
        service_transition=ServiceTransition(row.service_transition) if row.service_transition else None,
        backed_out=row.backed_out,
        design=parts.design,
        pir=parts.pir,
        incidents=tuple(parts.incidents),
    )


async def _with_affected_cis(conn: AsyncConnection, rows: Sequence[Any]) -> list[Change]:
    """Domain objects for change rows, with their CIs fetched in one query for all of them."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    parts: defaultdict[UUID, _Parts] = defaultdict(_Parts)
    for link in await conn.execute(select(change_affected_ci).where(change_affected_ci.c.change_id.in_(ids))):
        parts[link.change_id].cis.append(link.ci_id)
    for v in await conn.execute(select(change_vote).where(change_vote.c.change_id.in_(ids)).order_by(change_vote.c.at)):
        parts[v.change_id].votes.append(Vote(v.voter, v.approve, v.comment, v.at))
    for s in await conn.execute(select(change_service).where(change_service.c.change_id.in_(ids))):
        parts[s.change_id].services.append(s.service_id)
    for i in await conn.execute(
        select(change_incident_link)
        .where(change_incident_link.c.change_id.in_(ids))
        .order_by(change_incident_link.c.linked_at, change_incident_link.c.incident_number)
    ):
        parts[i.change_id].incidents.append(
            IncidentLink(i.incident_id, i.incident_number, i.reason, i.ci_id, i.linked_at, i.service_id)
        )
    for d in await conn.execute(select(change_design).where(change_design.c.change_id.in_(ids))):
        parts[d.change_id].design = _design(d)
    for p in await conn.execute(select(change_review).where(change_review.c.change_id.in_(ids))):
        parts[p.change_id].pir = PostImplementationReview(
            p.outcome, p.lessons, p.objectives_met, tuple(UUID(i) for i in p.incident_ids), p.reviewed_by, p.reviewed_at
        )
    return [_to_domain(r, parts[r.id]) for r in rows]


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
        await self._save_parts(item)

    async def _save_parts(self, item: Change) -> None:
        """The design record (rewritten whole) and the review (written once)."""
        if item.design is not None:
            await self._conn.execute(delete(change_design).where(change_design.c.change_id == item.id))
            await self._conn.execute(change_design.insert().values(_design_row(item.id, item.design)))
        if item.pir is not None:
            exists = await self._conn.scalar(
                select(change_review.c.change_id).where(change_review.c.change_id == item.id)
            )
            if exists is None:
                pir = item.pir
                await self._conn.execute(
                    change_review.insert().values(
                        change_id=item.id,
                        outcome=pir.outcome,
                        lessons=pir.lessons,
                        objectives_met=pir.objectives_met,
                        incident_ids=[str(i) for i in pir.incident_ids],
                        reviewed_by=pir.by,
                        reviewed_at=pir.at,
                    )
                )

    async def save(self, item: Change, expected_version: int) -> None:
        """Write a changed change if nobody else did since it was read; add its new votes."""
        values = _to_row(item)
        del values["id"], values["number"], values["created_at"]
        await update_versioned(self._conn, change, item.id, expected_version, values, label=item.number)
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
        await self._save_parts(item)

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


def _in_window(conn: AsyncConnection, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Changes on the schedule whose window overlaps [start, end). On PostgreSQL as a range
    overlap, which the GiST index `ix_change_window` (migration 0006) answers and estimates well;
    two comparisons of a year-long schedule would scan half of it."""
    on = [change.c.status.in_(ON_THE_SCHEDULE), change.c.planned_start.is_not(None), change.c.planned_end.is_not(None)]
    if conn.dialect.name == "postgresql":
        window = func.tstzrange(change.c.planned_start, change.c.planned_end)
        return [*on, window.op("&&")(func.tstzrange(start, end))]
    return [*on, change.c.planned_start < end, change.c.planned_end > start]


async def slots_between(conn: AsyncConnection, start: datetime, end: datetime) -> list[Slot]:
    """Changes on the schedule (approved, scheduled, implementing) whose window overlaps [start, end)."""
    query = select(change).where(*_in_window(conn, start, end))
    items = await _with_affected_cis(conn, (await conn.execute(query.order_by(change.c.planned_start))).all())
    return [slot_of(i) for i in items if i.planned_start and i.planned_end]


async def scheduled_changes(conn: AsyncConnection, start: datetime, end: datetime) -> list[Change]:
    query = select(change).where(*_in_window(conn, start, end))
    return await _with_affected_cis(conn, (await conn.execute(query.order_by(change.c.planned_start))).all())


def slot_of(item: Change) -> Slot:
    assert item.planned_start is not None and item.planned_end is not None
    return Slot(
        item.id,
        item.number,
        item.planned_start,
        item.planned_end,
        frozenset(item.affected_ci_ids),
        frozenset(item.service_ids),
    )


async def slots_touching(conn: AsyncConnection, ci_ids: Iterable[UUID], start: datetime, end: datetime) -> list[Slot]:
    """Changes on the schedule whose window overlaps [start, end) and that change any of these CIs;
    each slot holds only those of its CIs that are among `ci_ids` (all a conflict check compares)."""
    ids = list(set(ci_ids))
    if not ids:
        return []
    query = (
        select(change.c.id, change.c.number, change.c.planned_start, change.c.planned_end, change_affected_ci.c.ci_id)
        .join(change_affected_ci, change_affected_ci.c.change_id == change.c.id)
        .where(change_affected_ci.c.ci_id.in_(ids), *_in_window(conn, start, end))
    )
    found: dict[UUID, tuple[str, datetime, datetime, set[UUID]]] = {}
    for row in await conn.execute(query):
        found.setdefault(row.id, (row.number, row.planned_start, row.planned_end, set()))[3].add(row.ci_id)
    return [
        Slot(change_id, number, slot_start, slot_end, frozenset(cis))
        for change_id, (number, slot_start, slot_end, cis) in sorted(found.items(), key=lambda kv: kv[1][1])
    ]


async def related_cis(conn: AsyncConnection, ci_ids: Iterable[UUID], depth: int) -> dict[UUID, frozenset[UUID]]:
    """For each CI, the CIs within `depth` relationships of it in the read model, either direction
    (one query per level for all the CIs together)."""
    roots = set(ci_ids)
    adjacency: defaultdict[UUID, set[UUID]] = defaultdict(set)
    seen, frontier = set(roots), set(roots)
    for _ in range(depth):
        if not frontier:
            break
        pairs = await ci_read_model.neighbours(conn, frontier)
        reached: set[UUID] = set()
        for source, target in pairs:
            adjacency[source].add(target)
            adjacency[target].add(source)
            reached.update((source, target))
        frontier = reached - seen
        seen |= reached
    related: dict[UUID, frozenset[UUID]] = {}
    for root in roots:
        around, edge = {root}, {root}
        for _ in range(depth):
            edge = {n for c in edge for n in adjacency.get(c, ())} - around
            around |= edge
        related[root] = frozenset(around - {root})
    return related


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


# ---------------------------------------------------------------------------- maintenance windows

maintenance_window = Table(
    "maintenance_window",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service_id", Uuid, nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("days", JSON, nullable=False),
    Column("start_time", String(8), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


def _window(row: Any) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row.id,
        service_id=row.service_id,
        name=row.name,
        time_zone=row.time_zone,
        days=frozenset(row.days),
        start=time.fromisoformat(row.start_time),
        duration=timedelta(minutes=row.duration_minutes),
    )


def _window_values(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "service_id": window.service_id,
        "name": window.name,
        "time_zone": window.time_zone,
        "days": sorted(window.days),
        "start_time": window.start.isoformat(timespec="minutes"),
        "duration_minutes": int(window.duration.total_seconds() // 60),
    }


async def add_maintenance_window(
    conn: AsyncConnection, window: MaintenanceWindow, *, actor: str, now: datetime
) -> None:
    await conn.execute(
        maintenance_window.insert().values(id=window.id, created_by=actor, created_at=now, **_window_values(window))
    )


async def replace_maintenance_window(conn: AsyncConnection, window: MaintenanceWindow) -> bool:
    m = maintenance_window
    result = await conn.execute(update(m).where(m.c.id == window.id).values(_window_values(window)))
    return bool(result.rowcount)


async def delete_maintenance_window(conn: AsyncConnection, window_id: UUID) -> bool:
    result = await conn.execute(delete(maintenance_window).where(maintenance_window.c.id == window_id))
    return bool(result.rowcount)


async def get_maintenance_window(conn: AsyncConnection, window_id: UUID) -> MaintenanceWindow | None:
    row = (await conn.execute(select(maintenance_window).where(maintenance_window.c.id == window_id))).first()
    return _window(row) if row is not None else None


async def maintenance_windows(
    conn: AsyncConnection, service_ids: Iterable[UUID] | None = None
) -> dict[UUID, list[MaintenanceWindow]]:
    """The windows of these services (of every service when None), by service."""
    m = maintenance_window
    query = select(m).order_by(m.c.service_id, m.c.name, m.c.id)
    if service_ids is not None:
        ids = list(set(service_ids))
        if not ids:
            return {}
        query = query.where(m.c.service_id.in_(ids))
    found: defaultdict[UUID, list[MaintenanceWindow]] = defaultdict(list)
    for row in await conn.execute(query):
        found[row.service_id].append(_window(row))
    return dict(found)


# ---------------------------------------------------------------------------- incidents linked to changes


async def link_incident(conn: AsyncConnection, link: IncidentLink, change_id: UUID) -> None:
    """Record the link once (a redelivered or repeated link changes nothing)."""
    exists = await conn.scalar(
        select(change_incident_link.c.incident_id).where(
            change_incident_link.c.change_id == change_id, change_incident_link.c.incident_id == link.incident_id
        )
    )
    if exists is None:
        await conn.execute(
            change_incident_link.insert().values(
                change_id=change_id,
                incident_id=link.incident_id,
                incident_number=link.incident_number,
                reason=link.reason,
                ci_id=link.ci_id,
                service_id=link.service_id,
                linked_at=link.linked_at,
            )
        )


async def ci_read_model_is_empty(conn: AsyncConnection) -> bool:
    return await conn.scalar(select(ci_read_model.cis.c.id).limit(1)) is None


async def change_exists(conn: AsyncConnection, change_id: UUID) -> bool:
    return await conn.scalar(select(change.c.id).where(change.c.id == change_id)) is not None
