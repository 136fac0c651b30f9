"""HTTP bodies of the SLA API: calendars, policies and a ticket's clocks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from services.incident.domain.sla import (
    ClockState,
    Escalation,
    EscalationKind,
    SlaPolicy,
    SlaTarget,
    TicketKind,
)
from services.incident.domain.sla_calendars import WEEKDAYS, working_hours_json
from services.incident.store.sla import PolicyRecord, StoredClock
from services.incident.store.sla_calendars import CalendarRecord
from shared.http import ApiModel

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TimeOfDay = Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")]
assert tuple(Weekday.__args__) == WEEKDAYS  # type: ignore[attr-defined]


class Hours(ApiModel):
    start: TimeOfDay = Field(examples=["09:00"])
    end: TimeOfDay = Field(examples=["17:00"], description="Up to 24:00")


class CalendarWrite(ApiModel):
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"], description="IANA time zone")
    working_hours: dict[Weekday, Hours] = Field(
        min_length=1, description="Working hours per weekday; a weekday left out is not worked"
    )
    holidays: list[date] = Field(default_factory=list, max_length=2000, description="Dates not worked")


class CalendarRead(ApiModel):
    id: UUID
    name: str
    time_zone: str
    working_hours: dict[str, Hours]
    holidays: list[date]
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, record: CalendarRecord) -> CalendarRead:
        hours = working_hours_json(record.calendar)
        return cls.from_record(
            record,
            time_zone=record.calendar.time_zone,
            working_hours={day: Hours(start=start, end=end) for day, (start, end) in hours.items()},
            holidays=sorted(record.calendar.holidays),
        )


class EscalationBody(ApiModel):
    kind: EscalationKind
    to_group: str | None = Field(default=None, min_length=1, max_length=100, description="functional: the group")
    notify: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20, description="hierarchical: whom to notify"
    )

    def to_domain(self) -> Escalation:
        return Escalation(self.kind, self.to_group, tuple(self.notify))

    @classmethod
    def of(cls, escalation: Escalation | None) -> EscalationBody | None:
        if escalation is None:
            return None
        return cls(kind=escalation.kind, to_group=escalation.to_group, notify=list(escalation.notify))


MAX_TARGET_S = 366 * 86400


class PolicyWrite(ApiModel):
    name: str = Field(min_length=1, max_length=100)
    ticket_kind: TicketKind = TicketKind.INCIDENT
    service_id: UUID | None = Field(default=None, description="None: the default policy for every other service")
    priority: int = Field(ge=1, le=5)
    response_target_s: int = Field(gt=0, le=MAX_TARGET_S, description="Business seconds to the first response")
    resolution_target_s: int = Field(gt=0, le=MAX_TARGET_S, description="Business seconds to resolution/fulfilment")
    calendar_id: UUID
    warning_share: float | None = Field(
        default=0.75, gt=0, lt=1, description="Share of a target at which it is at risk (None: no warning)"
    )
    on_warning: EscalationBody | None = None
    on_breach: EscalationBody | None = None

    def to_domain(self, policy_id: UUID, version: int) -> SlaPolicy:
        return SlaPolicy(
            id=policy_id,
            name=self.name,
            ticket_kind=self.ticket_kind,
            service_id=self.service_id,
            priority=self.priority,
            response_s=self.response_target_s,
            resolution_s=self.resolution_target_s,
            calendar_id=self.calendar_id,
            warn_share=self.warning_share,
            on_warning=self.on_warning.to_domain() if self.on_warning else None,
            on_breach=self.on_breach.to_domain() if self.on_breach else None,
            version=version,
        )


class PolicyRead(PolicyWrite):
    id: UUID
    version: int
    updated_at: datetime
    customer_id: UUID | None = Field(default=None, description="Set from a customer's agreed SLA: their tickets only")
    agreement_number: str | None = Field(
        default=None, description="The agreement (SLA...) whose agreed version set it; None: set by hand"
    )

    @classmethod
    def of(cls, record: PolicyRecord) -> PolicyRead:
        p = record.policy
        return cls.from_record(
            p,
            response_target_s=p.response_s,
            resolution_target_s=p.resolution_s,
            warning_share=p.warn_share,
            on_warning=EscalationBody.of(p.on_warning),
            on_breach=EscalationBody.of(p.on_breach),
            updated_at=record.updated_at,
        )


class ClockRead(ApiModel):
    target: SlaTarget
    policy_id: UUID
    state: ClockState
    target_business_s: int
    elapsed_business_s: int = Field(description="Up to the last action on the ticket (pauses left out)")
    started_at: datetime
    warn_at: datetime | None
    due_at: datetime | None = Field(description="As it stands: planned, passed, or where it would be if resumed")
    warned: bool
    breached: bool
    met: bool = Field(description="Elapsed business time within the target so far")
    stopped_at: datetime | None
    pauses: int

    @classmethod
    def of(cls, stored: StoredClock, due_at: datetime | None) -> ClockRead:
        c = stored.clock
        return cls.from_record(
            c, target_business_s=c.target_s, elapsed_business_s=c.elapsed_s, due_at=due_at, met=c.met()
        )
