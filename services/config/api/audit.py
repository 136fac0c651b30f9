"""CMDB routes, the configuration audit (ISO/IEC 20000-1 9.1): open unauthorised changes, CIs
discovery no longer sees, controlled CIs edited without a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.config.api.deps import POLICY
from services.config.schemas.audit import AuditReport, FindingRead, NotSeenRead, UncontrolledEditRead
from services.config.store.audit import controlled_changed_without_change, not_seen_since, open_findings
from shared.app import ReadConnectionDep

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.get("/audit", response_model=AuditReport, tags=["audit"])
async def configuration_audit(
    conn: ReadConnectionDep,
    not_seen_days: Annotated[int, Query(ge=1, le=3650)] = 30,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> AuditReport:
    # A read, not a use case: the report says when it was made (no backdating).
    now = datetime.now(UTC)
    findings = await open_findings(conn, limit=limit)
    stale = await not_seen_since(conn, now - timedelta(days=not_seen_days), limit=limit)
    edits = await controlled_changed_without_change(conn, limit=limit)
    return AuditReport(
        generated_at=now,
        not_seen_days=not_seen_days,
        differs_from_observed=[FindingRead.model_validate(f, from_attributes=True) for f in findings],
        not_seen=[NotSeenRead.model_validate(r, from_attributes=True) for r in stale],
        controlled_changed_without_change=[UncontrolledEditRead.model_validate(e, from_attributes=True) for e in edits],
    )
