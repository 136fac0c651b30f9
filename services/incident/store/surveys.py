"""Survey persistence (ISO/IEC 20000-1 7.1): the survey table (declared here on the service's
metadata, as `complaints` does, since `tables.py` is at its size limit), its repository, the
lookups issuing needs (one survey per ticket, the person's last one) and the list."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, UniqueConstraint, Uuid, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.survey_campaigns import Campaign
from services.incident.domain.surveys import Survey, SurveyStatus, TicketKind
from services.incident.store.tables import incident, metadata, service_request
from shared.db import UtcDateTime, page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.numbering import format_number, next_number

NUMBER_PREFIX, CAMPAIGN_PREFIX = "SRV", "SVC"
NUMBER_SEQUENCE, CAMPAIGN_SEQUENCE = "survey", "survey_campaign"

survey = Table(
    "survey",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("ticket_kind", String(10), nullable=False),
    # One survey per ticket, however often it is resolved (a reopened and re-resolved incident);
    # one per person in a campaign (its id here).
    Column("ticket_id", Uuid, nullable=False),
    Column("ticket_number", String(20), nullable=False),
    Column("service_id", Uuid, index=True),
    Column("respondent", String(200), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("answered_at", UtcDateTime),
    Column("score", Integer),
    Column("comment", Text, nullable=False, server_default=""),
    Column("complaint_id", Uuid),
    Column("version", Integer, nullable=False),
    # The throttle's lookup: when this person was last asked.
    Index("ix_survey_respondent_issued_at", "respondent", "issued_at"),
    UniqueConstraint("ticket_id", "respondent", name="uq_survey_ticket_id_respondent"),
)

survey_campaign = Table(
    "survey_campaign",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("frame_start", UtcDateTime, nullable=False),
    Column("frame_end", UtcDateTime, nullable=False),
    Column("launched_at", UtcDateTime, nullable=False, index=True),
    Column("launched_by", String(200), nullable=False),
    # The rule that chose the sample, its seed, the population's digest and sizes per stratum.
    Column("evidence", JSON, nullable=False),
    Column("surveys", Integer, nullable=False),
)


def _row(item: Survey) -> dict[str, Any]:
    return row_values(survey, item, status=item.status.value, ticket_kind=item.ticket_kind.value)


def _survey(row: Any) -> Survey:
    return record_of(Survey, row, status=SurveyStatus(row.status), ticket_kind=TicketKind(row.ticket_kind))


class SurveyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_numbered(self, item: Survey) -> None:
        """Insert a new survey with the next `SRV` number (sets `item.number`)."""
        item.number = format_number(NUMBER_PREFIX, await next_number(self._conn, NUMBER_SEQUENCE))
        await self._conn.execute(survey.insert(), _row(item))

    async def get(self, survey_id: UUID, *, for_update: bool = False) -> Survey | None:
        row = await row_by_id(self._conn, survey, survey_id, for_update=for_update)
        return None if row is None else _survey(row)

    async def save(self, item: Survey, expected_version: int) -> None:
        values = {k: v for k, v in _row(item).items() if k in ("status", "answered_at", "score", "comment")}
        values |= {"complaint_id": item.complaint_id, "version": item.version}
        await update_versioned(self._conn, survey, item.id, expected_version, values, label=item.number)

    async def exists_for_ticket(self, ticket_id: UUID) -> bool:
        return (await self._conn.scalar(select(survey.c.id).where(survey.c.ticket_id == ticket_id))) is not None

    async def last_issued_to(self, respondent: str) -> datetime | None:
        query = select(func.max(survey.c.issued_at)).where(survey.c.respondent == respondent)
        last: datetime | None = await self._conn.scalar(query)
        return last


async def get_survey(conn: AsyncConnection, survey_id: UUID) -> Survey | None:
    return await SurveyRepository(conn).get(survey_id)


async def list_surveys(
    conn: AsyncConnection,
    *,
    respondent: str | None,
    status: SurveyStatus | None,
    ticket_id: UUID | None,
    service_id: UUID | None,
    now: datetime,
    limit: int,
    offset: int,
) -> tuple[list[Survey], int]:
    """Newest first; `status` as read at `now` (an issued survey past its expiry is expired)."""
    query = where_given(select(survey), survey, respondent=respondent, ticket_id=ticket_id, service_id=service_id)
    issued = survey.c.status == SurveyStatus.ISSUED.value
    if status is SurveyStatus.ISSUED:
        query = query.where(and_(issued, survey.c.expires_at > now))
    elif status is SurveyStatus.EXPIRED:
        query = query.where(and_(issued, survey.c.expires_at <= now))
    elif status is SurveyStatus.ANSWERED:
        query = query.where(survey.c.status == SurveyStatus.ANSWERED.value)
    rows, total = await page(conn, query, survey.c.issued_at.desc(), survey.c.id, limit=limit, offset=offset)
    return [_survey(r) for r in rows], total


async def resolved_incident(conn: AsyncConnection, incident_id: UUID) -> tuple[str, str | None] | None:
    """The number and caller of an incident (the person a survey asks)."""
    row = (await conn.execute(select(incident.c.number, incident.c.caller).where(incident.c.id == incident_id))).first()
    return None if row is None else (row.number, row.caller)


async def fulfilled_request(conn: AsyncConnection, request_id: UUID) -> tuple[str, str | None] | None:
    query = select(service_request.c.number, service_request.c.requester).where(service_request.c.id == request_id)
    row = (await conn.execute(query)).first()
    return None if row is None else (row.number, row.requester)


# ---------------------------------------------------------------------------- campaigns


async def add_campaign(conn: AsyncConnection, campaign: Campaign) -> None:
    """Insert a new campaign with the next `SVC` number (sets `campaign.number`)."""
    campaign.number = format_number(CAMPAIGN_PREFIX, await next_number(conn, CAMPAIGN_SEQUENCE))
    await conn.execute(survey_campaign.insert(), row_values(survey_campaign, campaign))


async def get_campaign(conn: AsyncConnection, campaign_id: UUID) -> Campaign | None:
    row = await row_by_id(conn, survey_campaign, campaign_id)
    return None if row is None else record_of(Campaign, row)


async def list_campaigns(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[Campaign], int]:
    c = survey_campaign
    rows, total = await page(conn, select(c), c.c.launched_at.desc(), c.c.id, limit=limit, offset=offset)
    return [record_of(Campaign, r) for r in rows], total


async def population(conn: AsyncConnection, start: datetime, end: datetime) -> dict[str, str]:
    """Everyone who raised a ticket in [start, end): person -> the service of their latest ticket
    ("" for none)."""
    i, r = incident, service_request
    tickets = [
        select(i.c.caller, i.c.service_id, i.c.opened_at).where(i.c.opened_at >= start, i.c.opened_at < end),
        select(r.c.requester, r.c.service_id, r.c.submitted_at).where(
            r.c.submitted_at >= start, r.c.submitted_at < end
        ),
    ]
    latest: dict[str, tuple[datetime, str]] = {}
    for query in tickets:
        for person, service_id, at in await conn.execute(query):
            if person and (person not in latest or at > latest[person][0]):
                latest[person] = (at, "" if service_id is None else str(service_id))
    return {person: service for person, (_, service) in latest.items()}


async def surveyed_since(conn: AsyncConnection, since: datetime) -> set[str]:
    """The people sent a survey at or after `since` (the throttle)."""
    query = select(survey.c.respondent).where(survey.c.issued_at >= since).distinct()
    return set((await conn.scalars(query)).all())
