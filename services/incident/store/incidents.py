"""Incident persistence: the incident repository, its field history, notes and review, the read
queries, the Idempotency-Key store, and the link fields problem management and alerts write."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import String, Text, bindparam, cast, false, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.incident_lifecycle import (
    Channel,
    ClosedBy,
    HoldReason,
    IncidentChanged,
    IncidentStatus,
    PostIncidentReview,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import AffectedCI, Impact, Urgency
from services.incident.domain.timeline import Note
from services.incident.store.tables import (
    ci_read_model,
    idempotency_key,
    incident,
    incident_history,
    incident_note,
    incident_review,
)
from shared.db import record_of, row_by_id, row_values, update_versioned
from shared.history import history_rows
from shared.idempotency import Idempotency, IdempotentCreate, Replay
from shared.numbering import format_number, next_number, postgres_sequence

idempotency = Idempotency(idempotency_key)
INCIDENT_NUMBERS = postgres_sequence("incident")

NUMBER_PREFIX = "INC"

T = TypeVar("T")

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
    return row_values(
        incident,
        item,
        channel=item.channel.value,
        impact=int(item.impact),
        urgency=int(item.urgency),
        status=item.status.value,
        hold_reason=item.hold_reason.value if item.hold_reason else None,
        closed_by=item.closed_by.value if item.closed_by else None,
    )


def incident_of_row(row: Any, review: PostIncidentReview | None = None) -> Incident:
    return record_of(
        Incident,
        row,
        channel=Channel(row.channel),
        impact=Impact(row.impact),
        urgency=Urgency(row.urgency),
        status=IncidentStatus(row.status),
        hold_reason=HoldReason(row.hold_reason) if row.hold_reason else None,
        closed_by=ClosedBy(row.closed_by) if row.closed_by else None,
        review=review,
    )


def review_of_row(row: Any) -> PostIncidentReview:
    return record_of(PostIncidentReview, row, actions=tuple(row.actions))


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
        row = await row_by_id(self._conn, incident, incident_id, for_update=for_update)
        if row is None:
            return None
        review = None
        if row.major:
            found = (
                await self._conn.execute(select(incident_review).where(incident_review.c.incident_id == incident_id))
            ).first()
            review = review_of_row(found) if found else None
        return incident_of_row(row, review)

    async def id_of_number(self, number: str) -> UUID | None:
        found: UUID | None = await self._conn.scalar(select(incident.c.id).where(incident.c.number == number))
        return found

    async def lock_available(self, incident_ids: Collection[UUID]) -> dict[UUID, Incident]:
        """The incidents nobody else holds, locked for this transaction (PostgreSQL: the others
        are skipped, not waited for, so a background job never blocks an agent's action)."""
        if not incident_ids:
            return {}
        query = select(incident).where(incident.c.id.in_(list(incident_ids)))
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return {row.id: incident_of_row(row) for row in await self._conn.execute(query)}

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
            reviews = {r.incident_id: review_of_row(r) for r in found}
        return [incident_of_row(r, reviews.get(r.id)) for r in rows]


def _changed_fields(item: Incident) -> set[str]:
    return {name for e in item.pending_events if isinstance(e, IncidentChanged) for name in e.changes}


async def affected_ci(conn: AsyncConnection, ci_id: UUID) -> AffectedCI | None:
    """The CI as the local read model knows it (from config's events)."""
    record = await ci_read_model.get(conn, ci_id)
    if record is None:
        return None
    return AffectedCI(id=record.id, status=record.status, criticality=record.criticality, service_id=record.service_id)


class KnownCIs:
    """The CIs this service knows from config's events (the local read model), as use cases check them."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def affected_ci(self, ci_id: UUID) -> AffectedCI | None:
        return await affected_ci(self._conn, ci_id)


class IdempotencyKeys:
    """The Idempotency-Key store as a create use case uses it, in its own transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, once: IdempotentCreate[Any]) -> Replay | None:
        """None: the key is new (go on, then `remember`); else the first response to answer again."""
        return await once.claim(self._conn)

    async def remember(self, once: IdempotentCreate[T], result: T) -> None:
        await once.remember(self._conn, result)
