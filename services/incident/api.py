"""Incident routes: validate, call the use case, return a schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from services.incident import store, usecases
from services.incident.domain import Incident, IncidentStatus
from services.incident.domain.incident import EscalationKind, NoteVisibility, PostIncidentReview
from services.incident.domain.timeline import CUSTOMER_VISIBLE_FIELDS
from services.incident.schemas import (
    Assignment,
    Escalation,
    HistoryEntry,
    Hold,
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    IncidentUpdate,
    MajorDeclaration,
    MajorUpdateCreate,
    NoteCreate,
    NoteRead,
    PriorityOverride,
    Reason,
    Resolution,
    ReviewRead,
    ReviewWrite,
    TimelineEntry,
)
from services.incident.settings import IncidentSettings
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import Forbidden, NotFound
from shared.http import etag, expected_version
from shared.idempotency import IdempotencyKeyHeader, Replay, StoredResponse

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Reporter = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.AGENT))]

STAFF_ROLES = frozenset(Role) - {Role.REQUESTER}
"""Who sees the internal side of an incident (work notes, the whole history on the timeline)."""


def _settings(request: Request) -> IncidentSettings:
    settings: IncidentSettings = request.app.state.settings
    return settings


Settings = Annotated[IncidentSettings, Depends(_settings)]


def _created(incident: Incident) -> StoredResponse:
    """The 201 answer to a create, as first sent and as replayed for its Idempotency-Key."""
    return StoredResponse(
        201,
        IncidentRead.of(incident).model_dump(mode="json"),
        {"Location": f"{router.prefix}/{incident.id}", "ETag": etag(incident.version)},
    )


@router.post(
    "",
    status_code=201,
    response_model=IncidentRead,
    summary="Open an incident",
    description="Send `Idempotency-Key` to make a retry safe: the same key and body answer the first response"
    " again (header `Idempotent-Replayed: true`), another body with that key is a 422.",
)
async def create_incident(
    body: IncidentCreate,
    uow: UnitOfWorkDep,
    who: Reporter,
    settings: Settings,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    once = store.idempotency.create_once(
        idempotency_key,
        caller=who.subject,
        route="POST /api/v1/incidents",
        body=body,
        render=_created,
        ttl=settings.idempotency_ttl,
    )
    result = await usecases.open_incident(usecases.OpenIncident(**body.model_dump()), uow, settings.policy, once=once)
    if isinstance(result, Replay):
        return result.response()
    created = _created(result)
    return JSONResponse(created.body, status_code=created.status_code, headers=created.headers)


@router.get("/{incident_id}", response_model=IncidentRead)
async def get_incident(incident_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> IncidentRead:
    incident = await store.get_incident(conn, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    response.headers["ETag"] = f'W/"{incident.version}"'
    return IncidentRead.of(incident)


@router.get("", response_model=IncidentPage)
async def list_incidents(
    conn: ReadConnectionDep,
    _: Reader,
    settings: Settings,
    status: IncidentStatus | None = None,
    priority: Annotated[int | None, Query(ge=1, le=5)] = None,
    assignment_group: Annotated[str | None, Query(max_length=100)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    ci_id: UUID | None = None,
    service_id: UUID | None = None,
    category: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    major: bool | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="In the title or description, or a number")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    count_limit = settings.list_count_limit
    items, total = await store.list_incidents(
        conn,
        status=status.value if status else None,
        priority=priority,
        limit=limit,
        offset=offset,
        assignment_group=assignment_group,
        assignee=assignee,
        ci_id=ci_id,
        service_id=service_id,
        category=category,
        major=major,
        text=q,
        count_limit=count_limit,
    )
    exact = total <= count_limit
    page = IncidentPage(
        items=[IncidentRead.of(i) for i in items],
        total=total if exact else count_limit,
        total_exact=exact,
        limit=limit,
        offset=offset,
    )
    # Serialised once here: returned as a model, FastAPI would dump it, validate it again against
    # the response model and dump it once more.
    return Response(page.model_dump_json(), media_type="application/json")


# ---------------------------------------------------------------------------- the lifecycle

Worker = Annotated[Principal, Depends(require_roles(Role.AGENT))]
Confirmer = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.REQUESTER))]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (optional)')]


async def _do(
    incident_id: UUID,
    who: Principal,
    if_match: str | None,
    uow: UnitOfWorkDep,
    response: Response,
    apply: Callable[[Incident, datetime], None],
) -> IncidentRead:
    cmd = usecases.Act(incident_id, who.subject, expected_version(if_match) if if_match else None)
    incident = await usecases.act(cmd, uow, apply)
    response.headers["ETag"] = etag(incident.version)
    return IncidentRead.of(incident)


@router.post("/{incident_id}/assign", response_model=IncidentRead)
async def assign(
    incident_id: UUID, body: Assignment, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(
        incident_id,
        who,
        if_match,
        uow,
        response,
        lambda i, now: i.assign(
            group=body.assignment_group,
            assignee=body.assignee,
            actor=who.subject,
            now=now,
            reason=body.reason,
            supplier_id=body.supplier_id,
        ),
    )


@router.post("/{incident_id}/start", response_model=IncidentRead)
async def start(
    incident_id: UUID, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.start(who.subject, now))


@router.post("/{incident_id}/hold", response_model=IncidentRead)
async def hold(
    incident_id: UUID, body: Hold, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(
        incident_id, who, if_match, uow, response, lambda i, now: i.hold(body.reason, who.subject, now, body.note)
    )


@router.post("/{incident_id}/resume", response_model=IncidentRead)
async def resume(
    incident_id: UUID, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.resume(who.subject, now))


@router.post("/{incident_id}/resolve", response_model=IncidentRead)
async def resolve(
    incident_id: UUID, body: Resolution, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(
        incident_id,
        who,
        if_match,
        uow,
        response,
        lambda i, now: i.resolve(code=body.resolution_code, notes=body.resolution_notes, actor=who.subject, now=now),
    )


@router.post("/{incident_id}/close", response_model=IncidentRead, summary="Close (the caller confirms)")
async def close(
    incident_id: UUID, uow: UnitOfWorkDep, who: Confirmer, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.close(who.subject, now))


@router.post("/{incident_id}/reopen", response_model=IncidentRead)
async def reopen(
    incident_id: UUID,
    body: Reason,
    uow: UnitOfWorkDep,
    who: Confirmer,
    response: Response,
    settings: Settings,
    if_match: IfMatch = None,
) -> IncidentRead:
    window = settings.policy.reopen_window
    return await _do(
        incident_id, who, if_match, uow, response, lambda i, now: i.reopen(body.reason, who.subject, now, window)
    )


@router.post("/{incident_id}/cancel", response_model=IncidentRead)
async def cancel(
    incident_id: UUID, body: Reason, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.cancel(body.reason, who.subject, now))


@router.get("/{incident_id}/history", response_model=list[HistoryEntry])
async def history(incident_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[HistoryEntry]:
    if await store.get_incident(conn, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return [HistoryEntry.model_validate(r, from_attributes=True) for r in await store.history_of(conn, incident_id)]


# ---------------------------------------------------------------------------- the record

Manager = Annotated[Principal, Depends(require_roles(Role.INCIDENT_MANAGER))]
"""Declares major incidents (and admin, who holds every role)."""
Lead = Annotated[Principal, Depends(require_roles(Role.INCIDENT_MANAGER, Role.AGENT))]
Commenter = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.INCIDENT_MANAGER, Role.REQUESTER))]
RequiredIfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (required: 428 without)')]


@router.patch("/{incident_id}", response_model=IncidentRead, summary="Edit the description and classification")
async def update_incident(
    incident_id: UUID,
    body: IncidentUpdate,
    uow: UnitOfWorkDep,
    who: Worker,
    response: Response,
    settings: Settings,
    if_match: RequiredIfMatch = None,
) -> IncidentRead:
    """A new impact or urgency recomputes the priority from the matrix (ending an override) and
    publishes `incident.priority_changed.v1`."""
    cmd = usecases.Act(incident_id, who.subject, expected_version(if_match))
    matrix = settings.policy.priority_matrix
    values = body.values()
    incident = await usecases.act(
        cmd, uow, lambda i, now: i.update(values, actor=who.subject, now=now, matrix=matrix, reason=body.reason)
    )
    response.headers["ETag"] = etag(incident.version)
    return IncidentRead.of(incident)


@router.post("/{incident_id}/priority", response_model=IncidentRead, summary="Override the priority, with a reason")
async def override_priority(
    incident_id: UUID,
    body: PriorityOverride,
    uow: UnitOfWorkDep,
    who: Worker,
    response: Response,
    if_match: IfMatch = None,
) -> IncidentRead:
    return await _do(
        incident_id,
        who,
        if_match,
        uow,
        response,
        lambda i, now: i.override_priority(body.priority, reason=body.reason, actor=who.subject, now=now),
    )


@router.post("/{incident_id}/escalate", response_model=IncidentRead, summary="Escalate, functionally or up the line")
async def escalate(
    incident_id: UUID, body: Escalation, uow: UnitOfWorkDep, who: Lead, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    """Functional: reassigned to `to_group`. Hierarchical: the people in `notify` are told
    (through `incident.escalated.v1`, trigger manual)."""
    return await _do(
        incident_id,
        who,
        if_match,
        uow,
        response,
        lambda i, now: i.escalate(
            EscalationKind(body.kind),
            actor=who.subject,
            now=now,
            to_group=body.to_group,
            notify=body.notify,
            supplier_id=body.supplier_id,
            reason=body.reason,
        ),
    )


@router.post("/{incident_id}/major", response_model=IncidentRead, summary="Declare a major incident")
async def declare_major(
    incident_id: UUID,
    body: MajorDeclaration,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> IncidentRead:
    """Role `incident_manager` (or admin); `manager` is the individual responsible for it."""
    return await _do(
        incident_id,
        who,
        if_match,
        uow,
        response,
        lambda i, now: i.declare_major(manager=body.manager, actor=who.subject, now=now, reason=body.reason),
    )


@router.post(
    "/{incident_id}/major/updates", status_code=201, response_model=NoteRead, summary="A major incident status update"
)
async def post_major_update(incident_id: UUID, body: MajorUpdateCreate, uow: UnitOfWorkDep, who: Lead) -> NoteRead:
    _, note = await usecases.add_note(
        usecases.Act(incident_id, who.subject), uow, text=body.text, visibility=body.visibility, major=True
    )
    return NoteRead.of(note)


@router.put("/{incident_id}/review", response_model=ReviewRead, summary="Record the post-incident review")
async def record_review(
    incident_id: UUID,
    body: ReviewWrite,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ReviewRead:
    """Of a major incident; it must exist before the incident can be closed. Sending it again
    revises it (each version stays in the history)."""

    def apply(incident: Incident, now: datetime) -> None:
        incident.record_review(
            PostIncidentReview(
                summary=body.summary,
                root_cause=body.root_cause,
                lessons=body.lessons,
                actions=tuple(body.actions),
                recorded_by=who.subject,
                recorded_at=now,
            )
        )

    cmd = usecases.Act(incident_id, who.subject, expected_version(if_match) if if_match else None)
    incident = await usecases.act(cmd, uow, apply)
    response.headers["ETag"] = etag(incident.version)
    assert incident.review is not None
    return ReviewRead.of(incident.review)


@router.get("/{incident_id}/review", response_model=ReviewRead)
async def get_review(incident_id: UUID, conn: ReadConnectionDep, _: Reader) -> ReviewRead:
    review = await store.review_of(conn, incident_id)
    if review is None:
        raise NotFound(f"incident {incident_id} has no post-incident review")
    return ReviewRead.of(review)


@router.post("/{incident_id}/notes", status_code=201, response_model=NoteRead, summary="A work note or a comment")
async def add_note(incident_id: UUID, body: NoteCreate, uow: UnitOfWorkDep, who: Commenter) -> NoteRead:
    """`internal`: a work note agents see; `customer`: a comment the caller sees too. A requester
    writes comments only."""
    if body.visibility is NoteVisibility.INTERNAL and not who.has_any(STAFF_ROLES):
        raise Forbidden("a requester writes comments (visibility customer); work notes are for agents")
    _, note = await usecases.add_note(
        usecases.Act(incident_id, who.subject), uow, text=body.text, visibility=body.visibility
    )
    return NoteRead.of(note)


@router.get("/{incident_id}/timeline", response_model=list[TimelineEntry])
async def timeline(incident_id: UUID, conn: ReadConnectionDep, who: Reader) -> list[TimelineEntry]:
    """Notes and field changes, oldest first. A requester sees the comments and major updates
    meant for them and how the status moved; agents see everything."""
    if await store.get_incident(conn, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    customer_only = not who.has_any(STAFF_ROLES)
    entries: list[tuple[Any, int, TimelineEntry]] = []
    for row in await store.history_of(conn, incident_id):
        visible = row.field in CUSTOMER_VISIBLE_FIELDS
        if customer_only and not visible:
            continue
        entry = TimelineEntry(
            at=row.at,
            entry="change",
            kind=row.action,
            visibility=NoteVisibility.CUSTOMER if visible else NoteVisibility.INTERNAL,
            actor=row.actor,
            field=row.field,
            old=row.old,
            new=row.new,
            reason=None if customer_only else row.reason,
        )
        entries.append((row.at, 0, entry))
    for note in await store.notes_of(conn, incident_id, customer_only=customer_only):
        entry = TimelineEntry(
            at=note.at,
            entry="note",
            kind=note.kind.value,
            visibility=note.visibility,
            actor=note.author,
            text=note.text,
        )
        entries.append((note.at, 1, entry))
    entries.sort(key=lambda e: (e[0], e[1]))  # stable: history and notes each keep their order
    return [e[2] for e in entries]
