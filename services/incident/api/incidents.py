"""Incident routes: open, read and list, the lifecycle actions, the record (edit, priority,
escalation, major incident, review), notes and the timeline. Thin: validate, call the use case,
return a schema."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from services.incident.api.deps import (
    POLICY,
    STAFF_ROLES,
    Authorised,
    Caller,
    CurrentIncident,
    IncidentAction,
    Settings,
)
from services.incident.domain.incident_lifecycle import IncidentStatus, NoteVisibility
from services.incident.domain.incidents import Incident
from services.incident.schemas.incidents import (
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
    history_entries,
    timeline_entries,
)
from services.incident.store import incident_queries
from services.incident.store.incidents import idempotency
from services.incident.usecases import incidents as usecases
from services.incident.usecases.incidents import Act
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import Principal
from shared.deps import IfMatch, Limit, Offset, RequiredIfMatch, optional_version
from shared.errors import Forbidden, NotFound, RuleViolation
from shared.http import etag, expected_version, tagged
from shared.idempotency import IdempotencyKeyHeader, Replay, StoredResponse

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""


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
    " again (header `Idempotent-Replayed: true`), another body with that key is a 422. A requester is the caller"
    " of what they raise: another `caller` is a 422.",
)
async def create_incident(
    body: IncidentCreate,
    uow: UnitOfWorkDep,
    who: Caller,
    access: Authorised,
    settings: Settings,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    # A requester raising an incident for someone else is refused rather than silently rewritten:
    # the client learns its body was wrong, and no incident names a caller who did not raise it.
    if access.only_own and body.caller != who.subject:
        raise RuleViolation(f"a requester is the caller of what they raise ({who.subject})", field="caller")
    once = idempotency.create_once(
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
async def get_incident(incident: CurrentIncident, response: Response) -> IncidentRead:
    return tagged(response, incident.version, IncidentRead.of(incident))


@router.get("", response_model=IncidentPage)
async def list_incidents(
    conn: ReadConnectionDep,
    access: Authorised,
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
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    count_limit = settings.list_count_limit
    items, total = await incident_queries.list_incidents(
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
        caller=access.principal.subject if access.only_own else None,
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


def _answer(incident: Incident, response: Response) -> IncidentRead:
    return tagged(response, incident.version, IncidentRead.of(incident))


def _act(incident_id: UUID, who: Principal, if_match: str | None) -> Act:
    return Act(incident_id, who.subject, optional_version(if_match))


@router.post("/{incident_id}/assign", response_model=IncidentRead)
async def assign(body: Assignment, uow: UnitOfWorkDep, cmd: IncidentAction, response: Response) -> IncidentRead:
    incident = await usecases.assign_incident(
        cmd,
        uow,
        group=body.assignment_group,
        assignee=body.assignee,
        reason=body.reason,
        supplier_id=body.supplier_id,
    )
    return _answer(incident, response)


@router.post("/{incident_id}/start", response_model=IncidentRead)
async def start(uow: UnitOfWorkDep, cmd: IncidentAction, response: Response) -> IncidentRead:
    return _answer(await usecases.start_work(cmd, uow), response)


@router.post("/{incident_id}/hold", response_model=IncidentRead)
async def hold(body: Hold, uow: UnitOfWorkDep, cmd: IncidentAction, response: Response) -> IncidentRead:
    return _answer(await usecases.hold_incident(cmd, uow, reason=body.reason, note=body.note), response)


@router.post("/{incident_id}/resume", response_model=IncidentRead)
async def resume(uow: UnitOfWorkDep, cmd: IncidentAction, response: Response) -> IncidentRead:
    return _answer(await usecases.resume_incident(cmd, uow), response)


@router.post("/{incident_id}/resolve", response_model=IncidentRead)
async def resolve(body: Resolution, uow: UnitOfWorkDep, cmd: IncidentAction, response: Response) -> IncidentRead:
    incident = await usecases.resolve_incident(cmd, uow, code=body.resolution_code, notes=body.resolution_notes)
    return _answer(incident, response)


@router.post("/{incident_id}/close", response_model=IncidentRead, summary="Close (the caller confirms)")
async def close(
    incident_id: UUID, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return _answer(await usecases.close_incident(_act(incident_id, who, if_match), uow), response)


@router.post("/{incident_id}/reopen", response_model=IncidentRead)
async def reopen(
    incident_id: UUID,
    body: Reason,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    settings: Settings,
    if_match: IfMatch = None,
) -> IncidentRead:
    cmd = _act(incident_id, who, if_match)
    incident = await usecases.reopen_incident(cmd, uow, reason=body.reason, window=settings.policy.reopen_window)
    return _answer(incident, response)


@router.post("/{incident_id}/cancel", response_model=IncidentRead)
async def cancel(body: Reason, uow: UnitOfWorkDep, cmd: IncidentAction, response: Response) -> IncidentRead:
    return _answer(await usecases.cancel_incident(cmd, uow, reason=body.reason), response)


@router.get("/{incident_id}/history", response_model=list[HistoryEntry])
async def history(conn: ReadConnectionDep, who: Caller, incident: CurrentIncident) -> list[HistoryEntry]:
    """A requester sees how the fields they may see moved, without the agents' reasons."""
    rows = await incident_queries.history_of(conn, incident.id)
    return history_entries(rows, customer_only=not who.has_any(STAFF_ROLES))


# ---------------------------------------------------------------------------- the record


@router.patch("/{incident_id}", response_model=IncidentRead, summary="Edit the description and classification")
async def update_incident(
    incident_id: UUID,
    body: IncidentUpdate,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    settings: Settings,
    if_match: RequiredIfMatch = None,
) -> IncidentRead:
    """A new impact or urgency recomputes the priority from the matrix (ending an override) and
    publishes `incident.priority_changed.v1`."""
    cmd = Act(incident_id, who.subject, expected_version(if_match))
    incident = await usecases.update_incident(
        cmd, uow, values=body.values(), matrix=settings.policy.priority_matrix, reason=body.reason
    )
    return _answer(incident, response)


@router.post("/{incident_id}/priority", response_model=IncidentRead, summary="Override the priority, with a reason")
async def override_priority(
    body: PriorityOverride, uow: UnitOfWorkDep, cmd: IncidentAction, response: Response
) -> IncidentRead:
    incident = await usecases.override_priority(cmd, uow, priority=body.priority, reason=body.reason)
    return _answer(incident, response)


@router.post("/{incident_id}/escalate", response_model=IncidentRead, summary="Escalate, functionally or up the line")
async def escalate(
    incident_id: UUID, body: Escalation, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    """Functional: reassigned to `to_group`. Hierarchical: the people in `notify` are told
    (through `incident.escalated.v1`, trigger manual)."""
    incident = await usecases.escalate_incident(
        _act(incident_id, who, if_match),
        uow,
        kind=body.kind,
        to_group=body.to_group,
        notify=body.notify,
        supplier_id=body.supplier_id,
        reason=body.reason,
    )
    return _answer(incident, response)


@router.post("/{incident_id}/major", response_model=IncidentRead, summary="Declare a major incident")
async def declare_major(
    incident_id: UUID,
    body: MajorDeclaration,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> IncidentRead:
    """Role `incident_manager` (or admin); `manager` is the individual responsible for it."""
    cmd = _act(incident_id, who, if_match)
    return _answer(await usecases.declare_major(cmd, uow, manager=body.manager, reason=body.reason), response)


@router.post(
    "/{incident_id}/major/updates", status_code=201, response_model=NoteRead, summary="A major incident status update"
)
async def post_major_update(incident_id: UUID, body: MajorUpdateCreate, uow: UnitOfWorkDep, who: Caller) -> NoteRead:
    _, note = await usecases.add_note(
        Act(incident_id, who.subject), uow, text=body.text, visibility=body.visibility, major=True
    )
    return NoteRead.of(note)


@router.put("/{incident_id}/review", response_model=ReviewRead, summary="Record the post-incident review")
async def record_review(
    incident_id: UUID,
    body: ReviewWrite,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> ReviewRead:
    """Of a major incident; it must exist before the incident can be closed. Sending it again
    revises it (each version stays in the history)."""
    incident = await usecases.record_review(
        _act(incident_id, who, if_match),
        uow,
        summary=body.summary,
        root_cause=body.root_cause,
        lessons=body.lessons,
        actions=body.actions,
    )
    response.headers["ETag"] = etag(incident.version)
    assert incident.review is not None
    return ReviewRead.of(incident.review)


@router.get("/{incident_id}/review", response_model=ReviewRead)
async def get_review(incident_id: UUID, conn: ReadConnectionDep) -> ReviewRead:
    review = await incident_queries.review_of(conn, incident_id)
    if review is None:
        raise NotFound(f"incident {incident_id} has no post-incident review")
    return ReviewRead.of(review)


@router.post("/{incident_id}/notes", status_code=201, response_model=NoteRead, summary="A work note or a comment")
async def add_note(incident_id: UUID, body: NoteCreate, uow: UnitOfWorkDep, who: Caller) -> NoteRead:
    """`internal`: a work note agents see; `customer`: a comment the caller sees too. A requester
    writes comments only."""
    if body.visibility is NoteVisibility.INTERNAL and not who.has_any(STAFF_ROLES):
        raise Forbidden("a requester writes comments (visibility customer); work notes are for agents")
    _, note = await usecases.add_note(Act(incident_id, who.subject), uow, text=body.text, visibility=body.visibility)
    return NoteRead.of(note)


@router.get("/{incident_id}/timeline", response_model=list[TimelineEntry])
async def timeline(conn: ReadConnectionDep, who: Caller, incident: CurrentIncident) -> list[TimelineEntry]:
    """Notes and field changes, oldest first. A requester sees the comments and major updates
    meant for them and how the status moved; agents see everything."""
    customer_only = not who.has_any(STAFF_ROLES)
    rows = await incident_queries.history_of(conn, incident.id)
    notes = await incident_queries.notes_of(conn, incident.id, customer_only=customer_only)
    return timeline_entries(rows, notes, customer_only=customer_only)
