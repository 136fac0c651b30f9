"""Evidence export routes (ISO/IEC 20000-1 4.3.3): an incident with its history, notes, review and
events, as JSON or a zip of CSV files with SHA-256 checksums (`shared.evidence`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.incident.api.deps import POLICY
from services.incident.store.evidence import INCIDENT
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
