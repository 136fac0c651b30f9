"""Service complaint routes (ISO/IEC 20000-1 7.1): receive, read and list complaints, one endpoint
per lifecycle action, escalation, links and history. Thin: validate, call the use case, answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.incident.api.deps import POLICY, Authorised, ComplaintAction, CurrentComplaint, Settings
from services.incident.domain.complaints import Complaint, ComplaintStatus
from services.incident.schemas.complaints import (
    ComplaintAcknowledge,
    ComplaintConfirm,
    ComplaintCreate,
    ComplaintEscalate,
    ComplaintHistoryEntry,
    ComplaintInvestigate,
    ComplaintLinks,
    ComplaintPage,
    ComplaintRead,
    ComplaintReason,
    ComplaintResolve,
    ComplaintTakeAction,
    ComplaintUpdate,
)
from services.incident.store import complaints
from services.incident.usecases import complaints as usecases
from shared import clock
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.errors import RuleViolation
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""

Person = Annotated[str | None, Query(min_length=1, max_length=200)]
SearchText = Annotated[str | None, Query(min_length=1, max_length=200, description="In the text, or a number")]
Overdue = Annotated[bool, Query(description="Only those with a target breached (passed unmet, or met late)")]


@router.post("", status_code=201, response_model=ComplaintRead)
async def receive_complaint(
    body: ComplaintCreate, uow: UnitOfWorkDep, access: Authorised, settings: Settings, response: Response
) -> ComplaintRead:
    """Record a complaint; its acknowledge and respond targets are due from now. A requester is the
    complainant of what they raise (naming anyone else is a 422)."""
    who = access.principal
    if access.only_own and body.complainant not in (None, who.subject):
        raise RuleViolation(f"a requester is the complainant of what they raise ({who.subject})", field="complainant")
    cmd = usecases.ReceiveComplaint(
        actor=who.subject, **{**body.model_dump(), "complainant": body.complainant or who.subject}
    )
    complaint = await usecases.receive_complaint(cmd, settings.complaint_targets, uow)
    return created(response, f"{router.prefix}/{complaint.id}", complaint.version, _read(complaint))


@router.get("", response_model=ComplaintPage)
async def list_complaints(
    conn: ReadConnectionDep,
    access: Authorised,
    status: ComplaintStatus | None = None,
    complainant: Person = None,
    owner: Person = None,
    service_id: UUID | None = None,
    overdue: Overdue = False,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="In the text, or a number"),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ComplaintPage:
    """Newest first; a requester sees only their own complaints."""
    if access.only_own:
        if complainant not in (None, access.principal.subject):
            return ComplaintPage(items=[], total=0, limit=limit, offset=offset)
        complainant = access.principal.subject
    now = clock.now()
    items, total = await complaints.list_complaints(
        conn,
        status=status.value if status else None,
        complainant=complainant,
        owner=owner,
        service_id=service_id,
        overdue_at=now if overdue else None,
        text=q,
        limit=limit,
        offset=offset,
    )
    return ComplaintPage(items=[ComplaintRead.of(c, now) for c in items], total=total, limit=limit, offset=offset)


@router.get("/{complaint_id}", response_model=ComplaintRead)
async def get_complaint(complaint: CurrentComplaint, response: Response) -> ComplaintRead:
    return _answer(complaint, response)


@router.get("/{complaint_id}/history", response_model=list[ComplaintHistoryEntry])
async def complaint_history(conn: ReadConnectionDep, complaint: CurrentComplaint) -> list[ComplaintHistoryEntry]:
    rows = await complaints.history_of(conn, complaint.id)
    return [ComplaintHistoryEntry.model_validate(r, from_attributes=True) for r in rows]


def _read(complaint: Complaint) -> ComplaintRead:
    return ComplaintRead.of(complaint, clock.now())


def _answer(complaint: Complaint, response: Response) -> ComplaintRead:
    return tagged(response, complaint.version, _read(complaint))


@router.patch("/{complaint_id}", response_model=ComplaintRead, summary="Edit fields (owner, root cause, ...)")
async def update_complaint(
    body: ComplaintUpdate, uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response
) -> ComplaintRead:
    return _answer(await usecases.update_complaint(cmd, uow, changes=body.changes(), reason=body.reason), response)


@router.post(
    "/{complaint_id}/links", response_model=ComplaintRead, summary="Link the incidents, requests, changes, suppliers"
)
async def link_records(
    body: ComplaintLinks, uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response
) -> ComplaintRead:
    """Incidents and requests must exist here, changes be known from the change service's events;
    suppliers are recorded unchecked (the service keeps no supplier register yet)."""
    links = usecases.Links(body.incident_ids, body.request_ids, body.change_ids, body.supplier_ids, body.reason)
    return _answer(await usecases.link_records(cmd, uow, links), response)


@router.post("/{complaint_id}/acknowledge", response_model=ComplaintRead)
async def acknowledge(
    uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response, body: ComplaintAcknowledge | None = None
) -> ComplaintRead:
    """Acknowledge receipt (meets the acknowledge target); you own it unless you name an owner."""
    owner = body.owner if body else None
    return _answer(await usecases.acknowledge_complaint(cmd, uow, owner=owner), response)


@router.post("/{complaint_id}/investigate", response_model=ComplaintRead)
async def investigate(
    uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response, body: ComplaintInvestigate | None = None
) -> ComplaintRead:
    notes = body.notes if body else ""
    return _answer(await usecases.investigate_complaint(cmd, uow, notes=notes), response)


@router.post("/{complaint_id}/take-action", response_model=ComplaintRead)
async def take_action(
    body: ComplaintTakeAction, uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response
) -> ComplaintRead:
    return _answer(await usecases.take_action(cmd, uow, actions=body.actions_taken), response)


@router.post("/{complaint_id}/resolve", response_model=ComplaintRead, summary="Put the outcome to the complainant")
async def resolve(
    body: ComplaintResolve, uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response
) -> ComplaintRead:
    """Resolved pending the complainant's confirmation; the first time meets the respond target."""
    return _answer(await usecases.resolve_complaint(cmd, uow, resolution=body.resolution), response)


@router.post("/{complaint_id}/confirm", response_model=ComplaintRead, summary="The complainant confirms: closed")
async def confirm(
    uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response, body: ComplaintConfirm | None = None
) -> ComplaintRead:
    comment = body.comment if body else ""
    return _answer(await usecases.confirm_complaint(cmd, uow, comment=comment), response)


@router.post("/{complaint_id}/close", response_model=ComplaintRead, summary="Close unconfirmed, saying why")
async def close(body: ComplaintReason, uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response) -> ComplaintRead:
    return _answer(await usecases.close_complaint(cmd, uow, reason=body.reason), response)


@router.post(
    "/{complaint_id}/escalate", response_model=ComplaintRead, summary="Escalate to the customer's relationship manager"
)
async def escalate(
    body: ComplaintEscalate, uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response
) -> ComplaintRead:
    complaint = await usecases.escalate_complaint(
        cmd, uow, reason=body.reason, relationship_manager=body.relationship_manager
    )
    return _answer(complaint, response)


@router.post("/{complaint_id}/reopen", response_model=ComplaintRead)
async def reopen(body: ComplaintReason, uow: UnitOfWorkDep, cmd: ComplaintAction, response: Response) -> ComplaintRead:
    """The complainant is not satisfied (pending confirmation, or after closure)."""
    return _answer(await usecases.reopen_complaint(cmd, uow, reason=body.reason), response)
