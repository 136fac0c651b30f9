"""Incident read queries: one incident, the incident list (filters, text search, stable pages), its
field history, notes and review."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.incident_lifecycle import (
    NoteVisibility,
    PostIncidentReview,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.timeline import Note, NoteKind
from services.incident.store.incidents import IncidentRepository, incident_of_row, review_of_row
from services.incident.store.tables import (
    incident,
    incident_history,
    incident_note,
    incident_review,
)
from shared.db import page, where_given


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
    caller: str | None = None,
    count_limit: int | None = None,
) -> tuple[list[Incident], int]:
    """A page of incidents, newest first, and how many match (up to `count_limit` + 1: more
    than `count_limit` when above it)."""
    query = select(incident)
    query = where_given(
        query,
        incident,
        service_id=service_id,
        category=category,
        major=major,
        status=status,
        priority=priority,
        assignment_group=assignment_group,
        assignee=assignee,
        ci_id=ci_id,
        caller=caller,
    )
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
            return [incident_of_row(r) for r in found], int(found[0].matches) if found else 0
    rows, total = await page(conn, query, *order, limit=limit, offset=offset, count_limit=count_limit)
    return [incident_of_row(r) for r in rows], total


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
    return review_of_row(row) if row else None


async def incident_numbers(conn: AsyncConnection, incident_ids: Collection[UUID]) -> dict[UUID, str]:
    """The numbers of the incidents that exist among `incident_ids`."""
    rows = await conn.execute(select(incident.c.id, incident.c.number).where(incident.c.id.in_(list(incident_ids))))
    return {r.id: r.number for r in rows}
