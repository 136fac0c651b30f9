"""The incident record: priority, lifecycle state machine, field changes (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from services.incident.domain.incident_lifecycle import (
    AUTO_CLOSE_ACTOR,
    DEFAULT_REOPEN_WINDOW,
    EDITABLE,
    TRANSITIONS,
    Action,
    Channel,
    ClosedBy,
    DomainConflict,
    EscalationKind,
    EscalationTrigger,
    HoldReason,
    IncidentChanged,
    IncidentOpened,
    IncidentStatus,
    PostIncidentReview,
    plain,
    plan_escalation,
)
from services.incident.domain.priority import (
    DEFAULT_PRIORITY_MATRIX,
    AffectedCI,
    Impact,
    PriorityMatrix,
    Urgency,
    check_ci,
    impact_for_criticality,
    priority_for,
)
from shared.errors import Conflict, InvalidTransition, RuleViolation


@dataclass
class Incident:
    id: UUID
    number: str
    title: str
    description: str
    caller: str
    channel: Channel
    impact: Impact
    urgency: Urgency
    priority: int
    status: IncidentStatus
    ci_id: UUID | None
    opened_at: datetime
    updated_at: datetime
    version: int = 1
    assignment_group: str | None = None
    assignee: str | None = None
    hold_reason: HoldReason | None = None
    resolution_code: str | None = None
    resolution_notes: str = ""
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    category: str | None = None
    subcategory: str | None = None
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    customer_id: UUID | None = None
    """The customer (config's registry) the incident is for: their agreed SLA's policy applies."""
    priority_override_reason: str | None = None
    major: bool = False
    major_manager: str | None = None
    major_declared_at: datetime | None = None
    closed_by: ClosedBy | None = None
    review: PostIncidentReview | None = None
    # Links that problem management finds (8.2), written by the service's own consumers.
    problem_id: UUID | None = None
    problem_number: str | None = None
    known_error_id: UUID | None = None
    workaround: str | None = None
    caused_by_change_id: UUID | None = None
    caused_by_change_number: str | None = None
    pending_events: list[IncidentOpened | IncidentChanged] = field(default_factory=list, compare=False, repr=False)

    def allowed_actions(self) -> list[str]:
        return sorted(a.value for a in TRANSITIONS[self.status] if self._guard(a) is None)

    def _guard(self, action: Action) -> DomainConflict | None:
        """Why an action the table allows cannot be done on this incident now, if it cannot."""
        if action is Action.DECLARE_MAJOR and self.major:
            return DomainConflict(f"{self.number} is already a major incident (manager: {self.major_manager})")
        if action is Action.REVIEW and not self.major:
            return DomainConflict(f"{self.number} is not a major incident; only major incidents have a review")
        if action is Action.CLOSE and self.major and self.review is None:
            return DomainConflict(
                f"{self.number} is a major incident: record its post-incident review (PUT .../review) before"
                " closing it",
                missing=["review"],
            )
        return None

    def _act(
        self,
        action: Action,
        actor: str,
        now: datetime,
        reason: str = "",
        *,
        target: IncidentStatus | None = None,
        details: Mapping[str, Any] | None = None,
        recorded: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> IncidentChanged:
        """Apply `action` if the table and the guards allow it: set `values`, record each change
        (and `recorded`: what happened that is no field, as (None, value)) and the domain event."""
        allowed_target = TRANSITIONS[self.status].get(action)
        if allowed_target is None:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        refused = self._guard(action)
        if refused is not None:
            raise Conflict(
                refused.detail, state=self.status.value, allowed_actions=self.allowed_actions(), **refused.extensions
            )
        target = target or allowed_target
        changes: dict[str, tuple[Any, Any]] = {}
        if target is not self.status:
            changes["status"] = (self.status.value, target.value)
        for name, value in values.items():
            old = getattr(self, name)
            if old != value:
                changes[name] = (plain(old), plain(value))
                setattr(self, name, value)
        for name, value in (recorded or {}).items():
            changes[name] = (None, plain(value))
        previous, self.status = self.status, target
        self.version += 1
        self.updated_at = now
        event = IncidentChanged(self.id, action, actor, previous, target, changes, reason, dict(details or {}))
        self.pending_events.append(event)
        return event

    def assign(
        self,
        *,
        group: str,
        assignee: str | None,
        actor: str,
        now: datetime,
        reason: str = "",
        supplier_id: UUID | None = None,
    ) -> None:
        """To a group (and maybe a person); `supplier_id` when the group is a supplier's (a
        reassignment to an internal group clears it)."""
        if not group.strip():
            raise RuleViolation("an incident is assigned to a group", field="assignment_group")
        self._act(
            Action.ASSIGN,
            actor,
            now,
            reason,
            assignment_group=group.strip(),
            assignee=assignee,
            supplier_id=supplier_id,
        )

    def start(self, actor: str, now: datetime) -> None:
        first = self.first_response_at or now
        self._act(Action.START, actor, now, first_response_at=first)

    def hold(self, reason: HoldReason, actor: str, now: datetime, note: str = "") -> None:
        self._act(Action.HOLD, actor, now, note, hold_reason=reason)

    def resume(self, actor: str, now: datetime) -> None:
        self._act(Action.RESUME, actor, now, hold_reason=None)

    def resolve(self, *, code: str, notes: str, actor: str, now: datetime) -> None:
        if not code.strip():
            raise RuleViolation("a resolution needs a code", field="resolution_code")
        first = self.first_response_at or now
        self._act(
            Action.RESOLVE,
            actor,
            now,
            notes,
            resolution_code=code,
            resolution_notes=notes,
            resolved_at=now,
            first_response_at=first,
            hold_reason=None,
        )

    def close(
        self, actor: str, now: datetime, *, closed_by: ClosedBy = ClosedBy.CALLER_CONFIRMED, reason: str = ""
    ) -> None:
        """On the caller's confirmation, or automatically (`close_automatically`). A major
        incident closes only once its post-incident review is recorded (409 naming it)."""
        self._act(Action.CLOSE, actor, now, reason, closed_at=now, closed_by=closed_by)

    def due_for_auto_close(self, now: datetime, after: timedelta) -> bool:
        """Resolved for `after` without the caller confirming (nor reopening), and closable."""
        return (
            self.status is IncidentStatus.RESOLVED
            and self.resolved_at is not None
            and now - self.resolved_at >= after
            and self._guard(Action.CLOSE) is None
        )

    def close_automatically(self, now: datetime, after: timedelta, actor: str = AUTO_CLOSE_ACTOR) -> None:
        days = after / timedelta(days=1)
        self.close(
            actor,
            now,
            closed_by=ClosedBy.AUTO_CLOSED,
            reason=f"resolved for {days:g} days without the caller's confirmation",
        )

    def reopen(self, reason: str, actor: str, now: datetime, window: timedelta = DEFAULT_REOPEN_WINDOW) -> None:
        if self.status is IncidentStatus.RESOLVED and self.resolved_at and now - self.resolved_at > window:
            raise InvalidTransition(
                "reopen", self.status.value, ["close"], why="resolved longer ago than the reopen window"
            )
        if not reason.strip():
            raise RuleViolation("say why the incident is reopened", field="reason")
        self._act(Action.REOPEN, actor, now, reason, resolved_at=None, resolution_code=None, resolution_notes="")

    def cancel(self, reason: str, actor: str, now: datetime) -> None:
        if not reason.strip():
            raise RuleViolation("say why the incident is cancelled", field="reason")
        self._act(Action.CANCEL, actor, now, reason)

    def update(
        self,
        values: Mapping[str, Any],
        *,
        actor: str,
        now: datetime,
        matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX,
        reason: str = "",
    ) -> None:
        """Edit the description and classification (`EDITABLE` fields, only those given). A new
        impact or urgency recomputes the priority from the matrix, which ends an override."""
        unknown = sorted(set(values) - EDITABLE)
        if unknown:
            raise RuleViolation.of_fields([(name, "cannot be edited") for name in unknown])
        if "title" in values and not str(values["title"]).strip():
            raise RuleViolation("an incident needs a title", field="title")
        merged = {name: values.get(name, getattr(self, name)) for name in EDITABLE}
        if merged["subcategory"] and not merged["category"]:
            raise RuleViolation("a subcategory needs a category", field="subcategory")
        impact, urgency = Impact(merged["impact"]), Urgency(merged["urgency"])
        changed = {name: value for name, value in values.items() if getattr(self, name) != value}
        if not changed:
            return
        if "impact" in changed or "urgency" in changed:
            changed["priority"] = priority_for(impact, urgency, matrix)
            changed["priority_override_reason"] = None
            changed["impact"], changed["urgency"] = impact, urgency
        previous_priority = self.priority
        self._act(Action.UPDATE, actor, now, reason, details={"previous_priority": previous_priority}, **changed)

    def override_priority(self, priority: int, *, reason: str, actor: str, now: datetime) -> None:
        """An agent sets the priority against the matrix, saying why (kept and in the history)."""
        if not 1 <= priority <= 5:
            raise RuleViolation("a priority runs from 1 (critical) to 5 (planning)", field="priority")
        if not reason.strip():
            raise RuleViolation("say why the priority overrides the matrix", field="reason")
        if priority == self.priority:
            raise RuleViolation(f"the priority is {priority} already", field="priority")
        self._act(
            Action.OVERRIDE_PRIORITY,
            actor,
            now,
            reason,
            details={"previous_priority": self.priority, "override": True},
            priority=priority,
            priority_override_reason=reason.strip(),
        )

    def escalate(
        self,
        kind: EscalationKind,
        *,
        actor: str,
        now: datetime,
        trigger: EscalationTrigger = EscalationTrigger.MANUAL,
        to_group: str | None = None,
        notify: Sequence[str] = (),
        supplier_id: UUID | None = None,
        reason: str = "",
    ) -> None:
        """The escalation rule, by hand or from the SLA watcher (`trigger` sla_warning or
        sla_breached). Functional: reassigned to `to_group` (the assignee cleared, a new
        incident becomes assigned; `supplier_id` when that group is a supplier's). Hierarchical:
        `notify` (managers) are told; the assignment stays. Either way one
        `incident.escalated.v1`; refused (409) once resolved."""
        details, values = plan_escalation(kind, trigger, self.assignment_group, to_group, notify, supplier_id)
        # A functional escalation reassigns: a new incident becomes assigned, as with assign.
        target = TRANSITIONS[self.status].get(Action.ASSIGN) if kind is EscalationKind.FUNCTIONAL else None
        summary = {k: v for k, v in details.items() if k != "from_group"}
        self._act(
            Action.ESCALATE,
            actor,
            now,
            reason,
            target=target,
            details=details,
            recorded={"escalation": summary},
            **values,
        )

    def declare_major(self, *, manager: str, actor: str, now: datetime, reason: str = "") -> None:
        """A major incident with the individual responsible for it (ISO/IEC 20000-1 8.1)."""
        if not manager.strip():
            raise RuleViolation("a major incident has a named manager", field="manager")
        self._act(
            Action.DECLARE_MAJOR,
            actor,
            now,
            reason,
            major=True,
            major_manager=manager.strip(),
            major_declared_at=now,
        )

    def record_review(self, review: PostIncidentReview) -> None:
        """Record (or revise) the post-incident review of a major incident."""
        self._act(
            Action.REVIEW,
            review.recorded_by,
            review.recorded_at,
            review=review,
        )

    @classmethod
    def open(
        cls,
        *,
        incident_id: UUID,
        number: str,
        title: str,
        description: str,
        caller: str,
        channel: Channel,
        impact: Impact | None,
        urgency: Urgency,
        ci_id: UUID | None,
        now: datetime,
        ci: AffectedCI | None = None,
        category: str | None = None,
        subcategory: str | None = None,
        service_id: UUID | None = None,
        matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX,
        customer_id: UUID | None = None,
    ) -> Incident:
        """Record an incident. On a CI (`ci_id`, looked up as `ci`): the CI must be known and not
        retired; its criticality gives the impact and its service the service when not given."""
        if not title.strip():
            raise RuleViolation("an incident needs a title", field="title")
        if subcategory and not category:
            raise RuleViolation("a subcategory needs a category", field="subcategory")
        if ci_id is not None:
            known = check_ci(ci_id, ci)
            impact = impact or impact_for_criticality(known.criticality)
            service_id = service_id or known.service_id
        if impact is None:
            raise RuleViolation("give the impact, or a ci_id whose criticality gives it", field="impact")
        incident = cls(
            id=incident_id,
            number=number,
            title=title.strip(),
            description=description,
            caller=caller,
            channel=channel,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency, matrix),
            status=IncidentStatus.NEW,
            ci_id=ci_id,
            opened_at=now,
            updated_at=now,
            category=category,
            subcategory=subcategory,
            service_id=service_id,
            customer_id=customer_id,
        )
        incident.pending_events.append(IncidentOpened(incident_id))
        return incident
