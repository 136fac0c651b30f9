"""Evidence export routes (ISO/IEC 20000-1 4.3.3): an incident, a problem, a service request or a
complaint with its history, the rows that belong to it and its events, and the incidents a list
query matches, as JSON or a zip of CSV files with SHA-256 checksums (`shared.evidence`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.incident.api.deps import POLICY
from services.incident.domain.incident_lifecycle import IncidentStatus
from services.incident.store import incident_queries
from services.incident.store.evidence import COMPLAINT, INCIDENT, PROBLEM, REQUEST
from shared import evidence
from shared.app import ReadConnectionDep

router = APIRouter(prefix="/api/v1", tags=["evidence"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""

Format = Annotated[evidence.EvidenceFormat | None, Query(alias="format", description="json (default) or csv (a zip)")]


@router.get(
    "/incidents/{incident_id}/evidence",
    response_class=Response,
    responses=evidence.OPENAPI_RESPONSES,
    summary="Export an incident as evidence: the record, its history, notes, review and events, with checksums",
)
async def incident_evidence(
    incident_id: UUID, request: Request, conn: ReadConnectionDep, fmt: Format = None
) -> Response:
    return await evidence.answer(conn, INCIDENT, incident_id, request)


@router.get(
    "/problems/{problem_id}/evidence",
    response_class=Response,
    responses=evidence.OPENAPI_RESPONSES,
    summary="Export a problem as evidence: the record, its history, linked incidents and events, with checksums",
)
async def problem_evidence(problem_id: UUID, request: Request, conn: ReadConnectionDep, fmt: Format = None) -> Response:
    return await evidence.answer(conn, PROBLEM, problem_id, request)


@router.get(
    "/requests/{request_id}/evidence",
    response_class=Response,
    responses=evidence.OPENAPI_RESPONSES,
    summary="Export a service request as evidence: the record, its history, SLA clocks and events, with checksums",
)
async def request_evidence(request_id: UUID, request: Request, conn: ReadConnectionDep, fmt: Format = None) -> Response:
    return await evidence.answer(conn, REQUEST, request_id, request)


@router.get(
    "/complaints/{complaint_id}/evidence",
    response_class=Response,
    responses=evidence.OPENAPI_RESPONSES,
    summary="Export a complaint as evidence: the record, its history, linked records and events, with checksums",
)
async def complaint_evidence(
    complaint_id: UUID, request: Request, conn: ReadConnectionDep, fmt: Format = None
) -> Response:
    return await evidence.answer(conn, COMPLAINT, complaint_id, request)


@router.get(
    "/evidence/incidents",
    response_class=Response,
    responses=evidence.QUERY_OPENAPI_RESPONSES,
    summary="Export the incidents a list query matches as evidence (at most 100: narrow the filters beyond)",
)
async def incidents_evidence(
    request: Request,
    conn: ReadConnectionDep,
    fmt: Format = None,
    status: IncidentStatus | None = None,
    priority: Annotated[int | None, Query(ge=1, le=5)] = None,
    assignment_group: Annotated[str | None, Query(max_length=100)] = None,
    ci_id: UUID | None = None,
    service_id: UUID | None = None,
    category: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    major: bool | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="In the title or description, or a number")
    ] = None,
) -> Response:
    query = {
        "status": status.value if status else None,
        "priority": priority,
        "assignment_group": assignment_group,
        "ci_id": ci_id,
        "service_id": service_id,
        "category": category,
        "major": major,
        "q": q,
    }
    items, total = await incident_queries.list_incidents(
        conn,
        status=status.value if status else None,
        priority=priority,
        assignment_group=assignment_group,
        ci_id=ci_id,
        service_id=service_id,
        category=category,
        major=major,
        text=q,
        limit=evidence.MAX_RECORDS,
        offset=0,
        count_limit=evidence.MAX_RECORDS,
    )
    evidence.bounded(total, "incidents")
    return await evidence.answer_query(conn, INCIDENT, [i.id for i in items], query, request)
