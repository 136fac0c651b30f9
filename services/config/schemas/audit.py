"""API bodies of the configuration audit (ISO/IEC 20000-1 9.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from shared.http import ApiModel


class FindingRead(ApiModel):
    id: UUID
    ci_id: UUID
    number: str
    name: str
    source: str
    run_id: UUID
    detected_at: datetime
    differences: dict[str, dict[str, Any]]


class NotSeenRead(ApiModel):
    id: UUID
    number: str
    name: str
    type: str
    last_seen_at: datetime
    last_seen_by: str | None


class UncontrolledEditRead(ApiModel):
    ci_id: UUID
    number: str
    name: str
    version: int
    recorded_at: datetime
    actor: str
    cause_kind: str
    changes: dict[str, dict[str, Any]]


class AuditReport(ApiModel):
    """ISO/IEC 20000-1 9.1 configuration audit: where the CMDB and reality or its rules disagree."""

    generated_at: datetime
    not_seen_days: int
    differs_from_observed: list[FindingRead] = Field(description="Open unauthorised-change findings from discovery")
    not_seen: list[NotSeenRead] = Field(description="Live CIs discovery has not seen for `not_seen_days`")
    controlled_changed_without_change: list[UncontrolledEditRead]
