"""Transactional satisfaction survey routes (ISO/IEC 20000-1 7.1): the surveys as staff and their
respondent read them (the respondent's own carry their link), and the public answer page its
signed, single-use link opens: server-rendered HTML (Jinja2, autoescaped) with a plain form POST,
no login and no script. Thin: validate, call the use case, render."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Path, Query, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.incident.api.deps import POLICY, Authorised, Caller, CurrentCampaign, CurrentSurvey, Settings
from services.incident.domain.surveys import COMMENT_MAX, SCORES, Survey, SurveyStatus, TicketKind
from services.incident.schemas.surveys import CampaignCreate, CampaignList, CampaignRead, SurveyList, SurveyRead
from services.incident.settings import IncidentSettings
from services.incident.store import surveys
from services.incident.usecases import surveys as usecases
from services.incident.usecases.surveys import PAGE_PATH, AnswerPage, PageState
from shared import clock
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import Principal
from shared.deps import Limit, Offset
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""
campaigns_router = APIRouter(
    prefix="/api/v1/survey-campaigns", tags=["surveys"], dependencies=[Depends(POLICY.enforce)]
)
"""Periodic surveys: a campaign asks a representative sample, its draw kept as evidence."""
page_router = APIRouter(prefix=PAGE_PATH, tags=["surveys"])
"""The answer page: public (the table's `public`); the signed link is the only credential."""

Respondent = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("", response_model=SurveyList)
async def list_surveys(
    conn: ReadConnectionDep,
    access: Authorised,
    settings: Settings,
    respondent: Respondent = None,
    status: SurveyStatus | None = None,
    ticket_id: UUID | None = None,
    service_id: UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SurveyList:
    """Newest first; a requester sees only the surveys they were sent, with the link of each one
    that still takes an answer."""
    if access.only_own:
        if respondent not in (None, access.principal.subject):
            return SurveyList(items=[], total=0, limit=limit, offset=offset)
        respondent = access.principal.subject
    now = clock.now()
    items, total = await surveys.list_surveys(
        conn,
        respondent=respondent,
        status=status,
        ticket_id=ticket_id,
        service_id=service_id,
        now=now,
        limit=limit,
        offset=offset,
    )
    shown = [_read(s, access.principal, settings) for s in items]
    return SurveyList(items=shown, total=total, limit=limit, offset=offset)


@router.get("/{survey_id}", response_model=SurveyRead)
async def get_survey(survey: CurrentSurvey, access: Authorised, settings: Settings, response: Response) -> SurveyRead:
    return tagged(response, survey.version, _read(survey, access.principal, settings))


def _read(survey: Survey, who: Principal, settings: IncidentSettings) -> SurveyRead:
    """Only the respondent gets the link: staff reading a survey cannot answer it for them."""
    now = clock.now()
    own = survey.respondent == who.subject and survey.status_at(now) is SurveyStatus.ISSUED
    return SurveyRead.of(survey, now, usecases.link_of(survey, settings) if own else None)


# ---------------------------------------------------------------------------- periodic campaigns


@campaigns_router.post("", status_code=201, response_model=CampaignRead)
async def launch_campaign(
    body: CampaignCreate, uow: UnitOfWorkDep, who: Caller, settings: Settings, response: Response
) -> CampaignRead:
    """Survey a representative sample of the people who raised a ticket in the last `frame_days`
    (stratified by service; see `evidence.rule`); each is sent a survey as a resolved ticket's
    person is (its link on their own surveys)."""
    cmd = usecases.LaunchCampaign(actor=who.subject, **body.model_dump())
    campaign = await usecases.launch_campaign(cmd, settings, uow)
    return created(response, f"{campaigns_router.prefix}/{campaign.id}", 1, CampaignRead.from_record(campaign))


@campaigns_router.get("", response_model=CampaignList)
async def list_campaigns(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> CampaignList:
    """Newest first."""
    items, total = await surveys.list_campaigns(conn, limit=limit, offset=offset)
    return CampaignList(items=[CampaignRead.from_record(c) for c in items], total=total, limit=limit, offset=offset)


@campaigns_router.get("/{campaign_id}", response_model=CampaignRead)
async def get_campaign(campaign: CurrentCampaign) -> CampaignRead:
    return CampaignRead.from_record(campaign)


# ---------------------------------------------------------------------------- the public page

Token = Annotated[str, Path(min_length=1, max_length=120)]
_TEMPLATES = Environment(
    loader=FileSystemLoader(FilePath(__file__).parent.parent / "web"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
PAGE_HEADERS = {
    # No script at all; the form posts only to this service; the token in the address is a
    # credential, so no Referer carries it elsewhere and no cache keeps the page.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
_SHOWN: dict[PageState, tuple[int, str, str]] = {
    PageState.OPEN: (200, "How did we do?", ""),
    PageState.THANKS: (200, "Thank you", "Your answer was recorded. Thank you for telling us."),
    PageState.ALREADY_ANSWERED: (409, "Already answered", "This survey was already answered: a link is used once."),
    PageState.EXPIRED: (410, "Survey closed", "This survey link has expired and no longer takes an answer."),
    PageState.INVALID: (404, "Link not valid", "This survey link is not valid."),
}


def _page(page: AnswerPage, token: str) -> HTMLResponse:
    status, heading, message = _SHOWN[page.state]
    survey = page.survey
    html = _TEMPLATES.get_template("survey.html").render(
        state=page.state.value,
        heading=heading,
        message=message,
        action=f"{PAGE_PATH}/{token}",
        ticket_kind=survey.ticket_kind.value if survey else "",
        campaign=survey is not None and survey.ticket_kind is TicketKind.CAMPAIGN,
        ticket_number=survey.ticket_number if survey else "",
        expires_on=survey.expires_at.date().isoformat() if survey else "",
        scores=list(SCORES),
        comment_max=COMMENT_MAX,
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


@page_router.get("/{token}", include_in_schema=False)
async def survey_page(token: Token, conn: ReadConnectionDep, settings: Settings) -> HTMLResponse:
    """The form (200), or why it takes no answer: answered 409, expired 410, anything else 404."""
    return _page(await usecases.open_survey(conn, token, settings), token)


@page_router.post("/{token}", include_in_schema=False)
async def answer_survey(
    token: Token,
    score: Annotated[int, Form(ge=min(SCORES), le=max(SCORES))],
    uow: UnitOfWorkDep,
    settings: Settings,
    comment: Annotated[str, Form(max_length=COMMENT_MAX)] = "",
) -> HTMLResponse:
    """The one answer (200, thanks); a second use of the link is refused as the page says (409)."""
    cmd = usecases.AnswerSurvey(token=token, score=score, comment=comment)
    return _page(await usecases.answer_survey(cmd, settings, uow), token)
