"""Evidence export routes (ISO/IEC 20000-1 4.3.3): a change with its CIs, design, votes, review and
events, as JSON or a zip of CSV files with SHA-256 checksums (`shared.evidence`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.change.api.deps import POLICY
from services.change.store.evidence import CHANGE
from shared import evidence
from shared.app import ReadConnectionDep

router = APIRouter(prefix="/api/v1", tags=["evidence"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""

Format = Annotated[evidence.EvidenceFormat | None, Query(alias="format", description="json (default) or csv (a zip)")]


@router.get(
    "/changes/{change_id}/evidence",
    response_class=Response,
    responses=evidence.OPENAPI_RESPONSES,
    summary="Export a change as evidence: the record, its CIs, design, votes, review and events, with checksums",
)
async def change_evidence(change_id: UUID, request: Request, conn: ReadConnectionDep, fmt: Format = None) -> Response:
    return await evidence.answer(conn, CHANGE, change_id, request)
