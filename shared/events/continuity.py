"""Events of service continuity and availability management (ISO/IEC 20000-1 6.3), published by
the configuration service, which keeps the plans, their tests and their invocations."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class ContinuityPlanRecorded(EventData):
    routing_key: ClassVar[str] = "continuity.plan_recorded.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "A continuity or availability plan was recorded, or a new version of it under an approved change (6.3.2)."
    )

    plan_id: UUID
    kind: str = Field(description="continuity or availability")
    title: str
    version: int
    service_ids: list[UUID]
    change_number: str | None = Field(default=None, description="The approved change (absent on a first version)")
    test_due_by: datetime = Field(description="When the plan's next test is due")
    recorded_at: datetime
    recorded_by: str


class ContinuityRetestDue(EventData):
    routing_key: ClassVar[str] = "continuity.retest_due.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "A change marked as a major change to the service environment was implemented on a service the plan"
        " covers: a re-test is due (6.3.3)."
    )

    plan_id: UUID
    title: str
    change_number: str
    service_ids: list[UUID] = Field(description="The plan's services the change touched")
    test_due_by: datetime
    occurred_at: datetime


class ContinuityTestRecorded(EventData):
    routing_key: ClassVar[str] = "continuity.test_recorded.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A test of a continuity or availability plan was recorded with its results (6.3.3)."

    test_id: UUID
    plan_id: UUID
    plan_version: int
    type: str = Field(description="tabletop, failover, full_dr or backup_restore")
    tested_at: datetime
    requirements_met: int
    requirements_missed: int
    deficiencies: int
    reviewed: bool = Field(description="Whether the review after the test is recorded")
    test_due_by: datetime = Field(description="The plan's next test")
    recorded_by: str


class ContinuityInvoked(EventData):
    routing_key: ClassVar[str] = "continuity.invoked.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A continuity plan was invoked, for a major incident (6.3.2, reported as 6.2 b)."

    invocation_id: UUID
    plan_id: UUID
    title: str
    service_ids: list[UUID]
    major_incident_number: str = Field(examples=["INC0000042"])
    reason: str
    invoked_at: datetime
    invoked_by: str


class ContinuityReturnedToNormal(EventData):
    routing_key: ClassVar[str] = "continuity.returned_to_normal.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "An invoked continuity plan's services returned to normal working (6.3.2)."

    invocation_id: UUID
    plan_id: UUID
    major_incident_number: str
    invoked_at: datetime
    returned_to_normal_at: datetime
    recorded_by: str


class ContinuityInvocationReviewed(EventData):
    routing_key: ClassVar[str] = "continuity.invocation_reviewed.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "The review held after an invocation of a continuity plan was recorded (6.3.3)."

    invocation_id: UUID
    plan_id: UUID
    major_incident_number: str
    reviewed_at: datetime
    reviewed_by: str


class ContinuityPackExported(EventData):
    routing_key: ClassVar[str] = "continuity.pack_exported.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "The continuity pack (plans, contact lists, critical services with their CIs) was exported for"
        " offline keeping (6.3.2)."
    )

    export_id: UUID
    plans: int
    services: int
    cis: int
    exported_at: datetime
    exported_by: str
