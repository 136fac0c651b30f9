"""The unplanned outages that need an investigation (ISO/IEC 20000-1 6.3): read and claim."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.incident_lifecycle import IncidentStatus
from services.incident.domain.outages import OUTAGE_PRIORITY, Outage, OutagePolicy
from services.incident.store.tables import incident, problem_incident

_DONE = [IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value]


def _linked(incident_id: Any) -> Any:
    return exists().where(problem_incident.c.incident_id == incident_id)


def outage_of_row(row: Any, *, problem_linked: bool) -> Outage:
    return Outage(
        incident_id=row.id,
        number=row.number,
        title=row.title,
        service_id=row.service_id,
        priority=row.priority,
        major=row.major,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        problem_linked=problem_linked,
        assignment_group=row.assignment_group,
        ci_id=row.ci_id,
    )


async def claim_uninvestigated(conn: AsyncConnection, now: datetime, policy: OutagePolicy, limit: int) -> list[Outage]:
    """Resolved (or closed) unplanned outages past the grace period with no problem linked, the
    earliest resolved first, locked for this transaction; rows another transaction holds (another
    replica, an agent's action) are skipped (PostgreSQL). The duration is filtered in SQL on
    PostgreSQL; the caller applies the domain rule to each all the same."""
    query = (
        select(incident)
        .where(
            incident.c.service_id.is_not(None),
            or_(incident.c.major, incident.c.priority == OUTAGE_PRIORITY),
            incident.c.status.in_(_DONE),
            incident.c.resolved_at.is_not(None),
            incident.c.resolved_at <= now - policy.grace,
            incident.c.problem_id.is_(None),
            ~_linked(incident.c.id),
        )
        .order_by(incident.c.resolved_at, incident.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.where(incident.c.resolved_at - incident.c.opened_at > literal(policy.threshold))
        query = query.with_for_update(of=incident, skip_locked=True)
    return [outage_of_row(r, problem_linked=False) for r in await conn.execute(query)]


async def has_problem(conn: AsyncConnection, incident_id: UUID) -> bool:
    """Read afresh (a new snapshot): a problem linked since the claim's query began counts."""
    return bool(await conn.scalar(select(literal(1)).where(_linked(incident_id))))
