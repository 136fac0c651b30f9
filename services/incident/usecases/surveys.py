"""Transactional survey use cases (ISO/IEC 20000-1 7.1): a survey issued when a ticket is resolved
(the service's own `incident.resolved.v1` and `request.fulfilled.v1`, consumed from RabbitMQ like
any other consumer: not in the resolving request), the page its signed link opens, and the one
answer, which opens a complaint by policy when the score is low."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident import events
from services.incident.domain.complaints import ComplaintChannel, ComplaintLink, ComplaintLinkKind
from services.incident.domain.survey_campaigns import Campaign, draw
from services.incident.domain.surveys import (
    Decision,
    LinkRefusal,
    Survey,
    SurveyStatus,
    TicketKind,
    decide,
    sign_link,
    verify_link,
)
from services.incident.settings import IncidentSettings
from services.incident.store import surveys as store
from services.incident.store.analysis import lock_key
from services.incident.store.surveys import SurveyRepository, resolved_incident
from services.incident.usecases.complaints import ReceiveComplaint, receive_within
from shared import clock
from shared.errors import RuleViolation
from shared.events.incident import IncidentResolved, RequestFulfilled
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

SURVEY_ACTOR = "itsm-surveys"
"""Who records what the survey policy does (the complaint a low score opens)."""
PAGE_PATH = "/survey"
"""Where the public answer page is served; a link is `PAGE_PATH/<token>`."""


def link_of(survey: Survey, settings: IncidentSettings) -> str | None:
    """The survey's link (a path on the incident service): signed, so it is not stored."""
    secret = settings.survey_secret
    return None if secret is None else f"{PAGE_PATH}/{sign_link(survey.id, survey.expires_at, secret)}"


# ---------------------------------------------------------------------------- issuing


async def on_incident_resolved(data: IncidentResolved, uow: UnitOfWork) -> None:
    """The incident's caller is asked (the event does not carry who called: it is read here)."""
    found = await resolved_incident(uow.connection, data.incident_id)
    if found is not None:
        number, caller = found
        await issue(uow, TicketKind.INCIDENT, data.incident_id, number, caller, data.service_id)


async def on_request_fulfilled(data: RequestFulfilled, uow: UnitOfWork) -> None:
    await issue(uow, TicketKind.REQUEST, data.request_id, data.number, data.requester, data.service_id)


async def issue(
    uow: UnitOfWork,
    kind: TicketKind,
    ticket_id: UUID,
    number: str,
    person: str | None,
    service_id: UUID | None,
) -> Survey | None:
    """Issue the ticket's survey if the policy says so (inside the consumer's unit of work, which
    commits it with the inbox row: a redelivered event issues nothing more)."""
    settings: IncidentSettings = uow.settings
    if settings.survey_secret is None:
        log.warning("no survey for %s %s: INCIDENT_SURVEY_LINK_SECRET is not set", kind.value, number)
        return None
    policy = settings.survey_policy
    repo = SurveyRepository(uow.connection)
    person = (person or "").strip()
    if person:
        await lock_key(uow.connection, f"survey-person:{person}")  # the throttle holds across consumers
    now = clock.now()
    decision = decide(
        ticket_id=ticket_id,
        person=person,
        already_surveyed=await repo.exists_for_ticket(ticket_id),
        last_issued_at=await repo.last_issued_to(person) if person else None,
        now=now,
        policy=policy,
    )
    if decision is not Decision.ISSUE:
        log.info("no survey for %s %s: %s", kind.value, number, decision.value)
        return None
    survey = Survey.issue(
        survey_id=uuid4(),
        ticket_kind=kind,
        ticket_id=ticket_id,
        ticket_number=number,
        respondent=person,
        service_id=service_id,
        now=now,
        policy=policy,
    )
    await repo.add_numbered(survey)
    uow.emit_pending(survey, partial(events.survey_contract, sampling_rate=policy.sampling_rate))
    return survey


# ---------------------------------------------------------------------------- the public page


class PageState(StrEnum):
    """What the public page shows. `invalid` is one answer for a malformed, forged or unknown link:
    it says nothing about why."""

    OPEN = "open"
    THANKS = "thanks"
    ALREADY_ANSWERED = "already_answered"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class AnswerPage:
    state: PageState
    survey: Survey | None = None


async def _linked(
    conn: AsyncConnection, token: str, now: datetime, settings: IncidentSettings, *, lock: bool
) -> AnswerPage:
    """The survey a token opens (locked, to be answered), or the refusal the page shows."""
    secret = settings.survey_secret
    if secret is None:
        return AnswerPage(PageState.INVALID)
    verdict = verify_link(token, now, secret)
    if verdict is LinkRefusal.EXPIRED:
        return AnswerPage(PageState.EXPIRED)
    if isinstance(verdict, LinkRefusal):
        return AnswerPage(PageState.INVALID)
    survey_id, expires_at = verdict
    survey = await SurveyRepository(conn).get(survey_id, for_update=lock)
    if survey is None or int(survey.expires_at.timestamp()) != int(expires_at.timestamp()):
        return AnswerPage(PageState.INVALID)
    status = survey.status_at(now)
    if status is SurveyStatus.ANSWERED:
        return AnswerPage(PageState.ALREADY_ANSWERED)
    if status is SurveyStatus.EXPIRED:
        return AnswerPage(PageState.EXPIRED)
    return AnswerPage(PageState.OPEN, survey)


def _ticket_links(survey: Survey) -> list[ComplaintLink]:
    """The ticket a complaint from a survey concerns (a campaign's survey concerns none)."""
    if survey.ticket_kind is TicketKind.CAMPAIGN:
        return []
    return [ComplaintLink(ComplaintLinkKind(survey.ticket_kind.value), survey.ticket_id, survey.ticket_number)]


async def open_survey(conn: AsyncConnection, token: str, settings: IncidentSettings) -> AnswerPage:
    """What following the link shows (reads only: opening it twice is fine, answering is once)."""
    return await _linked(conn, token, clock.now(), settings, lock=False)


@dataclass(frozen=True)
class AnswerSurvey:
    token: str
    score: int
    comment: str = ""


async def answer_survey(cmd: AnswerSurvey, settings: IncidentSettings, uow: UnitOfWork) -> AnswerPage:
    """The one answer a link takes; a score at or below the policy's threshold opens a complaint
    (complainant: the respondent; linked to the ticket; its description the comment) in the same
    transaction. A second answer finds the survey answered and changes nothing."""
    async with uow:
        now = clock.now()
        page = await _linked(uow.connection, cmd.token, now, settings, lock=True)
        survey = page.survey
        if survey is None:
            return page
        read_version = survey.version
        survey.answer(cmd.score, cmd.comment, now)
        if survey.opens_complaint(settings.survey_policy):
            complaint = await receive_within(
                uow,
                ReceiveComplaint(
                    title=survey.complaint_title(),
                    complainant=survey.respondent,
                    actor=SURVEY_ACTOR,
                    description=survey.comment,
                    received_via=ComplaintChannel.SURVEY,
                    category="satisfaction",
                    service_id=survey.service_id,
                ),
                settings.complaint_targets,
                links=_ticket_links(survey),
            )
            survey.complaint_id = complaint.id
        await SurveyRepository(uow.connection).save(survey, read_version)
        uow.emit_pending(survey, events.survey_contract)
        await uow.commit()
    return AnswerPage(PageState.THANKS, survey)


# ---------------------------------------------------------------------------- periodic campaigns


@dataclass(frozen=True)
class LaunchCampaign:
    title: str
    actor: str
    frame_days: float
    sample_size: int
    seed: str | None = None


async def launch_campaign(cmd: LaunchCampaign, settings: IncidentSettings, uow: UnitOfWork) -> Campaign:
    """Ask a representative sample of the people served in the last `frame_days` (the rule in
    `domain/survey_campaigns.py`, its evidence kept on the campaign): one survey each, in one
    transaction, each `survey.issued.v1` with the share of the population asked."""
    if settings.survey_secret is None:
        raise RuleViolation("no survey link secret is set (INCIDENT_SURVEY_LINK_SECRET): no survey can be answered")
    policy = settings.survey_policy
    async with uow:
        conn, now = uow.connection, clock.now()
        start = now - timedelta(days=cmd.frame_days)
        everyone = await store.population(conn, start, now)
        recent = await store.surveyed_since(conn, now - policy.throttle) if policy.throttle else set()
        population = {person: stratum for person, stratum in everyone.items() if person not in recent}
        sample = draw(population, cmd.sample_size, cmd.seed or uuid4().hex, excluded=len(everyone) - len(population))
        campaign = Campaign.launch(
            campaign_id=uuid4(), title=cmd.title, frame_start=start, now=now, actor=cmd.actor, sample=sample
        )
        await store.add_campaign(conn, campaign)
        rate = len(sample.people) / len(population) if population else 0.0
        repo = SurveyRepository(conn)
        for person, stratum in sorted(sample.people.items()):
            survey = Survey.issue(
                survey_id=uuid4(),
                ticket_kind=TicketKind.CAMPAIGN,
                ticket_id=campaign.id,
                ticket_number=campaign.number,
                respondent=person,
                service_id=UUID(stratum) if stratum else None,
                now=now,
                policy=policy,
            )
            await repo.add_numbered(survey)
            uow.emit_pending(survey, partial(events.survey_contract, sampling_rate=rate))
        await uow.commit()
    return campaign
