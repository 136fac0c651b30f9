"""Changes: the repository (a change with its CIs, services, votes, design, review and incidents)
and the read queries on changes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.cab import Risk, Vote
from services.change.domain.changes import (
    Change,
    ChangeStatus,
    ChangeType,
    CmdbOutcome,
    IncidentLink,
    PostImplementationReview,
)
from services.change.domain.design import DesignRecord, ServiceTransition
from services.change.store.design import design_of, design_row
from services.change.store.risk import recent_history_on
from services.change.store.tables import (
    change,
    change_affected_ci,
    change_design,
    change_incident_link,
    change_review,
    change_service,
    change_vote,
    ci_read_model,
)
from shared.ci_read_model import CIRecord
from shared.db import page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.numbering import next_number


def _to_row(item: Change) -> dict[str, Any]:
    return row_values(
        change,
        item,
        type=item.change_type.value,
        status=item.status.value,
        risk=item.risk.value if item.risk else None,
        planned_ci_changes=[dict(c) for c in item.planned_ci_changes],
        cmdb_outcome=item.cmdb_outcome.value,
        cmdb_errors=[dict(e) for e in item.cmdb_errors],
        risk_reasons=list(item.risk_reasons),
        service_transition=item.service_transition.value if item.service_transition else None,
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
    return record_of(
        Change,
        row,
        change_type=ChangeType(row.type),
        status=ChangeStatus(row.status),
        affected_ci_ids=tuple(sorted(parts.cis)),
        risk=Risk(row.risk) if row.risk else None,
        planned_ci_changes=tuple(row.planned_ci_changes),
        cmdb_outcome=CmdbOutcome(row.cmdb_outcome),
        cmdb_errors=tuple(row.cmdb_errors),
        risk_reasons=tuple(row.risk_reasons),
        votes=tuple(parts.votes),
        service_ids=tuple(sorted(parts.services)),
        service_transition=ServiceTransition(row.service_transition) if row.service_transition else None,
        design=parts.design,
        pir=parts.pir,
        incidents=tuple(parts.incidents),
    )


async def changes_of(conn: AsyncConnection, rows: Sequence[Any]) -> list[Change]:
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
        parts[d.change_id].design = design_of(d)
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
            await self._conn.execute(change_design.insert().values(design_row(item.id, item.design)))
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
        row = await row_by_id(self._conn, change, change_id, for_update=for_update)
        return (await changes_of(self._conn, [row]))[0] if row else None

    async def exists(self, change_id: UUID) -> bool:
        return await self._conn.scalar(select(change.c.id).where(change.c.id == change_id)) is not None

    async def link_incident(self, change_id: UUID, link: IncidentLink) -> None:
        """Record the link once (a redelivered or repeated link changes nothing)."""
        exists = await self._conn.scalar(
            select(change_incident_link.c.incident_id).where(
                change_incident_link.c.change_id == change_id, change_incident_link.c.incident_id == link.incident_id
            )
        )
        if exists is None:
            await self._conn.execute(
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

    async def recent_history(self, ci_ids: Sequence[UUID], since: datetime, *, exclude: UUID) -> tuple[int, int]:
        """(changes implemented or failed on any of these CIs since `since`, how many of them failed)."""
        return await recent_history_on(self._conn, ci_ids, since, exclude=exclude)


class KnownCIs:
    """The CIs this service knows from config's events (the local read model), as use cases check them."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get_many(self, ci_ids: Sequence[UUID]) -> dict[UUID, CIRecord]:
        return await ci_read_model.get_many(self._conn, ci_ids)

    async def is_empty(self) -> bool:
        return await self._conn.scalar(select(ci_read_model.cis.c.id).limit(1)) is None


async def get_change(conn: AsyncConnection, change_id: UUID) -> Change | None:
    return await ChangeRepository(conn).get(change_id)


async def list_changes(
    conn: AsyncConnection,
    *,
    status: str | None,
    change_type: str | None,
    limit: int,
    offset: int,
    requester: str | None = None,
) -> tuple[list[Change], int]:
    """A page of changes, newest first; `requester` narrows it to one person's (a requester's list)."""
    query = where_given(select(change), change, status=status, type=change_type, requester=requester)
    rows, total = await page(conn, query, change.c.created_at.desc(), change.c.id, limit=limit, offset=offset)
    return await changes_of(conn, rows), total


async def change_statuses(conn: AsyncConnection, change_ids: Sequence[UUID]) -> dict[UUID, tuple[str, str]]:
    """change id -> (number, status) for the changes that exist."""
    if not change_ids:
        return {}
    rows = await conn.execute(select(change.c.id, change.c.number, change.c.status).where(change.c.id.in_(change_ids)))
    return {r.id: (r.number, r.status) for r in rows}


async def change_id_by_number(conn: AsyncConnection, number: str) -> UUID | None:
    found = await conn.scalar(select(change.c.id).where(change.c.number == number))
    return found if isinstance(found, UUID) else None


# ---------------------------------------------------------------------------- incidents linked to changes


async def incidents_of(conn: AsyncConnection, change_ids: Sequence[UUID]) -> list[Any]:
    if not change_ids:
        return []
    c = change_incident_link
    rows = await conn.execute(
        select(c).where(c.c.change_id.in_(list(change_ids))).order_by(c.c.linked_at, c.c.incident_number)
    )
    return list(rows)
