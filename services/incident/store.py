"""Incident persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain import Channel, HoldReason, Impact, Incident, IncidentChanged, IncidentStatus, Urgency
from services.incident.domain.incident import AffectedCI, ClosedBy, NoteVisibility, PostIncidentReview
from services.incident.domain.timeline import Note, NoteKind
from shared.history import history_rows
from shared.ci_read_model import CIReadModel
from shared.db import BigIntKey, UtcDateTime, make_metadata, page, update_versioned
from shared.idempotency import Idempotency, idempotency_table
from shared.inbox import inbox_table
from shared.numbering import format_number, next_number, number_sequence_table, postgres_sequence
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)
ci_read_model = CIReadModel(metadata)
idempotency_key = idempotency_table(metadata)
idempotency = Idempotency(idempotency_key)
INCIDENT_NUMBERS = postgres_sequence("incident")

incident = Table(
    "incident",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("caller", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("impact", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("ci_id", Uuid),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("assignment_group", String(100)),
    Column("assignee", String(200)),
    Column("hold_reason", String(30)),
    Column("resolution_code", String(50)),
    Column("resolution_notes", Text, nullable=False, server_default=""),
    Column("first_response_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    # Problem management's links (8.2): the problem and known error it is linked to, the
    # workaround offered, and the change that probably caused it.
    Column("problem_id", Uuid, index=True),
    Column("problem_number", String(20)),
    Column("known_error_id", Uuid),
    Column("workaround", Text),
    Column("caused_by_change_id", Uuid, index=True),
    Column("caused_by_change_number", String(20)),
    Column("category", String(100)),
    Column("subcategory", String(100)),
    Column("service_id", Uuid),
    Column("supplier_id", Uuid, index=True),
    Column("priority_override_reason", Text),
    Column("major", Boolean, nullable=False, server_default=false()),
    Column("major_manager", String(200)),
    Column("major_declared_at", UtcDateTime),
    Column("closed_by", String(20)),
)

# The list answers newest first (opened_at DESC, id): one index per filter people use, with that
# order after the filtered columns, so a page of 50 is read from the index without sorting the
# matches (also the equality lookups the single-column indexes served before). Text search (`q`)
# uses trigram indexes on PostgreSQL (`pg_trgm`, ILIKE '%...%'). See docs/benchmarks.md.
_NEWEST = (incident.c.opened_at.desc(), incident.c.id)
for _name, _columns in (
    ("ix_incident_status_priority_opened_at", (incident.c.status, incident.c.priority)),
    ("ix_incident_status_opened_at", (incident.c.status,)),
    ("ix_incident_assignment_group_opened_at", (incident.c.assignment_group,)),
    ("ix_incident_assignee_opened_at", (incident.c.assignee,)),
    ("ix_incident_ci_id_opened_at", (incident.c.ci_id,)),
    ("ix_incident_service_id_opened_at", (incident.c.service_id,)),
    ("ix_incident_category_opened_at", (incident.c.category,)),
    ("ix_incident_opened_at", ()),
):
    Index(_name, *_columns, *_NEWEST)
for _column in (incident.c.title, incident.c.description):
    Index(
        f"ix_incident_{_column.name}_trgm",
        _column,
        postgresql_using="gin",
        postgresql_ops={_column.name: "gin_trgm_ops"},
    )

# Every field an action changed: who, when, old, new, why (ISO/IEC 20000-1 4.3.3 records).
incident_history = Table(
    "incident_history",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("incident_id", Uuid, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("field", String(50), nullable=False),
    Column("old", JSON),
    Column("new", JSON),
    Column("reason", Text, nullable=False, server_default=""),
)

# The timeline's own entries: work notes, comments to the caller, major incident updates.
incident_note = Table(
    "incident_note",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("incident_id", Uuid, nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("author", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("visibility", String(20), nullable=False),
    Column("text", Text, nullable=False),
)

# The post-incident review of a major incident (one per incident; revised in place, the
# history keeps each version).
incident_review = Table(
    "incident_review",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("summary", Text, nullable=False),
    Column("root_cause", Text, nullable=False),
    Column("lessons", Text, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)


NUMBER_PREFIX = "INC"

# Inserts are constant statements with the row as parameters: SQLAlchemy finds them compiled in
# its cache, instead of building and cache-keying a new `insert().values(...)` for every row.
_INSERT_INCIDENT = incident.insert()


def _numbered_insert() -> Any:
    """PostgreSQL: insert an incident and draw its number from the sequence in one statement,
    `INSERT INTO incident (number, ...) SELECT 'INC' || lpad(..), $1, .. FROM (SELECT nextval(..)) n
    RETURNING number` (a round trip and a statement fewer than `SELECT nextval` first). The number
    reads as `shared.numbering.format_number` writes it: zero-padded to 7 digits, never cut."""
    drawn = select(INCIDENT_NUMBERS.next_value().label("value")).subquery("n")
    digits = cast(drawn.c.value, Text)
    number = literal(NUMBER_PREFIX, String) + func.lpad(digits, func.greatest(7, func.length(digits)), "0")
    columns = [c for c in incident.c if c.name != "number"]
    values = select(number, *(bindparam(c.name, type_=c.type) for c in columns)).select_from(drawn)
    return incident.insert().from_select(["number", *(c.name for c in columns)], values).returning(incident.c.number)


_INSERT_NUMBERED_INCIDENT = _numbered_insert()


def _to_row(item: Incident) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "title": item.title,
        "description": item.description,
        "caller": item.caller,
        "channel": item.channel.value,
        "impact": int(item.impact),
        "urgency": int(item.urgency),
        "priority": item.priority,
        "status": item.status.value,
        "ci_id": item.ci_id,
        "opened_at": item.opened_at,
        "updated_at": item.updated_at,
        "version": item.version,
        "assignment_group": item.assignment_group,
        "assignee": item.assignee,
        "hold_reason": item.hold_reason.value if item.hold_reason else None,
        "resolution_code": item.resolution_code,
        "resolution_notes": item.resolution_notes,
        "first_response_at": item.first_response_at,
        "resolved_at": item.resolved_at,
        "closed_at": item.closed_at,
        "problem_id": item.problem_id,
        "problem_number": item.problem_number,
        "known_error_id": item.known_error_id,
        "workaround": item.workaround,
        "caused_by_change_id": item.caused_by_change_id,
        "caused_by_change_number": item.caused_by_change_number,
        "category": item.category,
        "subcategory": item.subcategory,
        "service_id": item.service_id,
        "supplier_id": item.supplier_id,
        "priority_override_reason": item.priority_override_reason,
        "major": item.major,
        "major_manager": item.major_manager,
        "major_declared_at": item.major_declared_at,
        "closed_by": item.closed_by.value if item.closed_by else None,
    }


def _to_domain(row: Any, review: PostIncidentReview | None = None) -> Incident:
    return Incident(
        id=row.id,
        number=row.number,
        title=row.title,
        description=row.description,
        caller=row.caller,
        channel=Channel(row.channel),
        impact=Impact(row.impact),
        urgency=Urgency(row.urgency),
        priority=row.priority,
        status=IncidentStatus(row.status),
        ci_id=row.ci_id,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        version=row.version,
        assignment_group=row.assignment_group,
        assignee=row.assignee,
        hold_reason=HoldReason(row.hold_reason) if row.hold_reason else None,
        resolution_code=row.resolution_code,
        resolution_notes=row.resolution_notes,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        problem_id=row.problem_id,
        problem_number=row.problem_number,
        known_error_id=row.known_error_id,
        workaround=row.workaround,
        caused_by_change_id=row.caused_by_change_id,
        caused_by_change_number=row.caused_by_change_number,
        category=row.category,
        subcategory=row.subcategory,
        service_id=row.service_id,
        supplier_id=row.supplier_id,
        priority_override_reason=row.priority_override_reason,
        major=row.major,
        major_manager=row.major_manager,
        major_declared_at=row.major_declared_at,
        closed_by=ClosedBy(row.closed_by) if row.closed_by else None,
        review=review,
    )


def _review(row: Any) -> PostIncidentReview:
    return PostIncidentReview(
        summary=row.summary,
        root_cause=row.root_cause,
        lessons=row.lessons,
        actions=tuple(row.actions),
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


class IncidentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "incident")

    async def add(self, item: Incident) -> None:
        await self._conn.execute(_INSERT_INCIDENT, _to_row(item))

    async def add_numbered(self, item: Incident) -> None:
        """Insert a new incident and give it the next record number (`item.number` is set).

        Numbers come from the PostgreSQL sequence (SQLite: the counter row), as with
        `next_number`: they may skip after a rollback, never repeat."""
        if self._conn.dialect.name == "postgresql":
            row = _to_row(item)
            del row["number"]
            item.number = (await self._conn.execute(_INSERT_NUMBERED_INCIDENT, row)).scalar_one()
        else:
            item.number = format_number(NUMBER_PREFIX, await self.next_number())
            await self.add(item)

    async def get(self, incident_id: UUID, *, for_update: bool = False) -> Incident | None:
        query = select(incident).where(incident.c.id == incident_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        review = None
        if row.major:
            found = (
                await self._conn.execute(select(incident_review).where(incident_review.c.incident_id == incident_id))
            ).first()
            review = _review(found) if found else None
        return _to_domain(row, review)

    async def lock_available(self, incident_ids: Collection[UUID]) -> dict[UUID, Incident]:
        """The incidents nobody else holds, locked for this transaction (PostgreSQL: the others
        are skipped, not waited for, so a background job never blocks an agent's action)."""
        if not incident_ids:
            return {}
        query = select(incident).where(incident.c.id.in_(list(incident_ids)))
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return {row.id: _to_domain(row) for row in await self._conn.execute(query)}

    async def save(self, item: Incident, expected_version: int) -> None:
        """Write a changed incident if nobody else did since it was read, and its field history."""
        values = _to_row(item)
        del values["id"], values["number"], values["opened_at"]
        await update_versioned(self._conn, incident, item.id, expected_version, values, label=item.number)
        changed = [e for e in item.pending_events if isinstance(e, IncidentChanged)]
        rows = history_rows("incident_id", item.id, item.version, item.updated_at, changed)
        if rows:
            await self._conn.execute(incident_history.insert(), rows)
        if item.review is not None and any(name == "review" for name in _changed_fields(item)):
            await self._save_review(item.id, item.review)

    async def _save_review(self, incident_id: UUID, review: PostIncidentReview) -> None:
        values = {
            "summary": review.summary,
            "root_cause": review.root_cause,
            "lessons": review.lessons,
            "actions": list(review.actions),
            "recorded_by": review.recorded_by,
            "recorded_at": review.recorded_at,
        }
        result = await self._conn.execute(
            update(incident_review).where(incident_review.c.incident_id == incident_id).values(values)
        )
        if result.rowcount == 0:
            await self._conn.execute(incident_review.insert().values(incident_id=incident_id, **values))

    async def add_note(self, note: Note) -> int:
        result = await self._conn.execute(
            incident_note.insert().returning(incident_note.c.id),
            {
                "incident_id": note.incident_id,
                "at": note.at,
                "author": note.author,
                "kind": note.kind.value,
                "visibility": note.visibility.value,
                "text": note.text,
            },
        )
        return int(result.scalar_one())

    async def claim_resolved_before(self, cutoff: datetime, limit: int) -> list[Incident]:
        """Incidents resolved at or before `cutoff` (auto-close candidates), oldest first, locked
        for this transaction; rows another transaction holds are skipped (a second replica of
        the job takes others, or finds them closed once the first commits)."""
        query = (
            select(incident)
            .where(
                incident.c.status == IncidentStatus.RESOLVED.value,
                incident.c.resolved_at <= cutoff,
                # A major incident without its review stays resolved until it has one.
                or_(
                    incident.c.major == false(),
                    select(incident_review.c.incident_id)
                    .where(incident_review.c.incident_id == incident.c.id)
                    .exists(),
                ),
            )
            .order_by(incident.c.resolved_at, incident.c.id)
            .limit(limit)
        )
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(await self._conn.execute(query))
        majors = [r.id for r in rows if r.major]
        reviews: dict[UUID, PostIncidentReview] = {}
        if majors:
            found = await self._conn.execute(select(incident_review).where(incident_review.c.incident_id.in_(majors)))
            reviews = {r.incident_id: _review(r) for r in found}
        return [_to_domain(r, reviews.get(r.id)) for r in rows]


def _changed_fields(item: Incident) -> set[str]:
    return {name for e in item.pending_events if isinstance(e, IncidentChanged) for name in e.changes}


async def affected_ci(conn: AsyncConnection, ci_id: UUID) -> AffectedCI | None:
    """The CI as the local read model knows it (from config's events)."""
    record = await ci_read_model.get(conn, ci_id)
    if record is None:
        return None
    return AffectedCI(id=record.id, status=record.status, criticality=record.criticality, service_id=record.service_id)


async def get_incident(conn: AsyncConnection, incident_id: UUID) -> Incident | None:
    return await IncidentRepository(conn).get(incident_id)


async def list_incidents(
    conn: AsyncConnection,
    *,
    status: str | None,
    priority: int | None,
    limit: int,
    offset: int,
    assignment_group: str | None = None,
    assignee: str | None = None,
    ci_id: UUID | None = None,
    text: str | None = None,
    service_id: UUID | None = None,
    category: str | None = None,
    major: bool | None = None,
    count_limit: int | None = None,
) -> tuple[list[Incident], int]:
    """A page of incidents, newest first, and how many match (up to `count_limit` + 1: more
    than `count_limit` when above it)."""
    query = select(incident)
    if service_id is not None:
        query = query.where(incident.c.service_id == service_id)
    if category is not None:
        query = query.where(incident.c.category == category)
    if major is not None:
        query = query.where(incident.c.major == major)
    if status is not None:
        query = query.where(incident.c.status == status)
    if priority is not None:
        query = query.where(incident.c.priority == priority)
    if assignment_group is not None:
        query = query.where(incident.c.assignment_group == assignment_group)
    if assignee is not None:
        query = query.where(incident.c.assignee == assignee)
    if ci_id is not None:
        query = query.where(incident.c.ci_id == ci_id)
    if text:
        # `%`, `_` and the escape character typed by the user are characters, not wildcards.
        pattern = "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        query = query.where(
            or_(
                incident.c.title.ilike(pattern, escape="/"),
                incident.c.description.ilike(pattern, escape="/"),
                incident.c.number == text.upper(),
            )
        )
    order = (incident.c.opened_at.desc(), incident.c.id)
    if text:
        # A text search reads every match anyway (trigram indexes, then sorted by date): the
        # matches' ids are collected once (MATERIALIZED keeps the planner from walking the date
        # index and filtering a million rows for the LIMIT), counted, and the page read from them.
        matches = (
            query.with_only_columns(incident.c.id, incident.c.opened_at)
            .cte("matches")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        picked = (
            select(matches.c.id, matches.c.opened_at)
            .order_by(matches.c.opened_at.desc(), matches.c.id)
            .limit(limit)
            .offset(offset)
            .subquery("picked")
        )
        counted = select(func.count()).select_from(matches).scalar_subquery()
        paged = (
            select(incident, counted.label("matches"))
            .join(picked, picked.c.id == incident.c.id)
            .order_by(picked.c.opened_at.desc(), picked.c.id)
        )
        found = list(await conn.execute(paged))
        if found or offset == 0:
            return [_to_domain(r) for r in found], int(found[0].matches) if found else 0
    rows, total = await page(conn, query, *order, limit=limit, offset=offset, count_limit=count_limit)
    return [_to_domain(r) for r in rows], total


async def history_of(conn: AsyncConnection, incident_id: UUID) -> list[Any]:
    query = select(incident_history).where(incident_history.c.incident_id == incident_id)
    return list(await conn.execute(query.order_by(incident_history.c.id)))


async def notes_of(conn: AsyncConnection, incident_id: UUID, *, customer_only: bool) -> list[Note]:
    query = select(incident_note).where(incident_note.c.incident_id == incident_id)
    if customer_only:
        query = query.where(incident_note.c.visibility == NoteVisibility.CUSTOMER.value)
    rows = await conn.execute(query.order_by(incident_note.c.id))
    return [Note(r.incident_id, NoteKind(r.kind), NoteVisibility(r.visibility), r.text, r.author, r.at) for r in rows]


async def review_of(conn: AsyncConnection, incident_id: UUID) -> PostIncidentReview | None:
    row = (await conn.execute(select(incident_review).where(incident_review.c.incident_id == incident_id))).first()
    return _review(row) if row else None
