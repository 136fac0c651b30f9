"""API bodies of change control: the changes that touched a CI and the approved ones that may."""

from __future__ import annotations

from datetime import datetime

from shared.http import ApiModel


class AppliedChangeRead(ApiModel):
    number: str
    first_applied_at: datetime
    latest_version: int


class PlannedChangeRead(ApiModel):
    number: str
    status: str
    planned_start: datetime | None
    planned_end: datetime | None


class CIChangesRead(ApiModel):
    """The changes that touched a CI (9.1 traceability) and the approved ones that may still."""

    applied: list[AppliedChangeRead]
    planned: list[PlannedChangeRead]
