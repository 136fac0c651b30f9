"""What reporting consumes: every event of the suite (`CONSUMES`), each kept in its log; and, for
the contracts its projections read, the fact rows each one sets (`patches_for`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.reporting.domain import (
    change_costs,
    change_events,
    config_events,
    continuity,
    costs,
    customer_levels,
    incident_events,
    satisfaction,
    supplier_events,
)
from services.reporting.domain.agreements import AgreementVersion
from services.reporting.domain.audits import AuditStatus, InternalAudit
from services.reporting.domain.definitions import ReportDefinition
from services.reporting.domain.facts import CMDB_FINDINGS, SUPPLIER_BREACHES, FactTable, Merge, Patch
from services.reporting.domain.improvements import Improvement, ImprovementStatus
from shared.events import CloudEvent, EventData
from shared.events.agreement import AgreementEvent
from shared.events.change import ChangeCreated, ChangeImplemented, ChangeStatusEvent, DeploymentRecorded
from shared.events.complaint import ComplaintEvent
from shared.events.config import (
    CapacityThresholdBreached,
    CapacityThresholdCleared,
    ConfigChangeRejected,
    ConfigItemCreated,
    ConfigItemRetired,
    ConfigItemUnauthorisedChangeDetected,
    ConfigItemUpdated,
)
from shared.events.improvement import (
    AuditClosed,
    AuditEvent,
    AuditFindingData,
    AuditPlanned,
    AuditUpdated,
    ImprovementClosed,
    ImprovementEvent,
    ImprovementRaised,
    ImprovementUpdated,
)
from shared.events.incident import (
    IncidentCreated,
    IncidentEvent,
    IncidentLinkedToChange,
    IncidentLinkedToProblem,
    ProblemEvent,
    RequestEvent,
    SlaBreached,
)
from shared.events.report import ReportRunCompleted
from shared.events.supplier import ContractEvent, DisputeEvent, SupplierCreated, SupplierTargetBreached, SupplierUpdated
from shared.events.survey import SurveyEvent

CONSUMES = "#"
"""The binding key of reporting's queue: every event of the suite."""


Rule = Callable[[Any], list[tuple[FactTable, dict[str, Any]]]]


def _rules() -> dict[str, tuple[type[EventData], Rule]]:
    from shared.events import EVENT_TYPES

    rules: dict[str, tuple[type[EventData], Rule]] = {}
    for key, cls in EVENT_TYPES.items():
        rule: Rule | None = None
        if cls is IncidentCreated:
            rule = incident_events.incident_created
        elif issubclass(cls, IncidentEvent):
            rule = _bind_incident(key)
        elif cls is SlaBreached:
            rule = incident_events.sla_breached
        elif issubclass(cls, RequestEvent):
            rule = incident_events.request
        elif issubclass(cls, ProblemEvent):
            rule = incident_events.problem
        elif cls is IncidentLinkedToProblem:
            rule = incident_events.linked_to_problem
        elif cls is IncidentLinkedToChange:
            rule = incident_events.linked_to_change
        elif cls is ChangeCreated:
            rule = change_events.change_created
        elif cls is ChangeImplemented:
            rule = change_events.change_implemented
        elif issubclass(cls, ChangeStatusEvent):
            rule = change_events.change_status
        elif cls is DeploymentRecorded:
            rule = change_events.deployment
        elif cls in (ConfigItemCreated, ConfigItemUpdated):
            rule = config_events.ci
        elif cls is ConfigItemRetired:
            rule = config_events.ci_retired
        elif cls is ConfigItemUnauthorisedChangeDetected:
            rule = config_events.unauthorised
        elif cls in (CapacityThresholdBreached, CapacityThresholdCleared):
            rule = config_events.capacity_crossing
        elif cls in (SupplierCreated, SupplierUpdated):
            rule = supplier_events.supplier
        elif issubclass(cls, ContractEvent):
            rule = supplier_events.contract
        elif issubclass(cls, DisputeEvent):
            rule = supplier_events.dispute
        elif issubclass(cls, SurveyEvent):
            rule = satisfaction.survey
        elif issubclass(cls, ComplaintEvent):
            rule = satisfaction.complaint
        elif cls in continuity.RULES:
            rule = continuity.RULES[cls]
        elif cls in costs.RULES:
            rule = costs.RULES[cls]
        elif cls in change_costs.RULES:
            rule = change_costs.RULES[cls]
        elif issubclass(cls, AgreementEvent):
            rule = customer_levels.agreement
        if rule is not None:
            rules[key] = (cls, rule)
    return rules


def _bind_incident(routing_key: str) -> Rule:
    def rule(data: IncidentEvent) -> list[tuple[FactTable, dict[str, Any]]]:
        return incident_events.incident_later(data, routing_key)

    return rule


_RULES = _rules()

# When what an event tells happened (what orders its values), from the first of these fields it
# has: a producer may publish late (outbox, replays), so the envelope's time is only the fallback.
_TIME_FIELDS = (
    "occurred_at",
    "recorded_at",
    "updated_at",
    "detected_at",
    "retired_at",
    "implemented_at",
    "opened_at",
    "created_at",
    "sampled_at",
    "stated_at",
)


def _time_of(data: EventData, event: CloudEvent) -> datetime:
    for name in _TIME_FIELDS:
        value = getattr(data, name, None)
        if isinstance(value, datetime):
            return value
    return event.time


def patches_for(event: CloudEvent) -> list[Patch]:
    """The fact rows an event sets; [] for events no projection uses. Raises ValidationError on a
    malformed `data` of a known type (the consumer retries, then dead-letters it)."""
    found = _RULES.get(event.routing_key)
    if found is None:
        if event.routing_key == ConfigChangeRejected.routing_key:
            rejected = event.data_as(ConfigChangeRejected)
            values = {
                "finding_id": str(event.id),
                "kind": "cmdb_update_rejected",
                "change_id": rejected.change_id,
                "detected_at": rejected.rejected_at,
            }
            return [Patch(CMDB_FINDINGS, values, rejected.rejected_at, str(event.id))]
        if event.routing_key == SupplierTargetBreached.routing_key:
            breach = event.data_as(SupplierTargetBreached)
            values = breach.model_dump(exclude={"target", "actual"}) | {
                "breach_id": str(event.id),
                "target": breach.target,
                "actual": breach.actual,
            }
            return [Patch(SUPPLIER_BREACHES, values, breach.occurred_at, str(event.id))]
        return []
    cls, rule = found
    data = event.data_as(cls)
    at = _time_of(data, event)
    event_id = str(event.id)
    return [
        Patch(
            table, {k: v for k, v in values.items() if v is not None or table.columns.get(k) is Merge.KEY}, at, event_id
        )
        for table, values in rule(data)
    ]


# ---------------------------------------------------------------------------- what reporting publishes


def improvement_event(
    entry: Improvement, actor: str, *, raised: bool = False, previous_status: str | None = None
) -> ImprovementEvent:
    """The contract of a register entry after an action: raised, closed, or any other move or edit."""
    cls: type[ImprovementEvent] = (
        ImprovementRaised
        if raised
        else ImprovementClosed
        if entry.status is ImprovementStatus.CLOSED and previous_status != entry.status
        else ImprovementUpdated
    )
    benefit = entry.benefit
    return cls(
        improvement_id=entry.id,
        number=entry.number,
        kind=entry.kind.value,
        title=entry.title,
        source=entry.source.value,
        source_ref=entry.source_ref,
        owner=entry.owner,
        target_date=entry.target_date,
        status=entry.status.value,
        previous_status=previous_status,
        measure=benefit.measure,
        before=benefit.before,
        after=benefit.after,
        actor=actor,
        occurred_at=entry.updated_at,
    )


def audit_event(
    audit: InternalAudit, actor: str, *, planned: bool = False, previous_status: str | None = None
) -> AuditEvent:
    """The contract of an internal audit after an action: planned, closed, or any other move or finding."""
    cls: type[AuditEvent] = (
        AuditPlanned
        if planned
        else AuditClosed
        if audit.status is AuditStatus.CLOSED and previous_status != audit.status
        else AuditUpdated
    )
    findings = [
        AuditFindingData(
            kind=f.kind.value,
            clause=f.clause,
            action_owner=f.corrective_action.owner if f.corrective_action else None,
            action_due=f.corrective_action.due if f.corrective_action else None,
            action_status=f.corrective_action.status if f.corrective_action else None,
            improvement_number=f.improvement_number,
        )
        for f in audit.findings
    ]
    return cls(
        audit_id=audit.id,
        number=audit.number,
        programme_id=audit.programme_id,
        title=audit.title,
        lead_auditor=audit.lead_auditor,
        planned_on=audit.planned_on,
        status=audit.status.value,
        previous_status=previous_status,
        findings=findings,
        actor=actor,
        occurred_at=audit.updated_at,
    )


def report_run_event(row: dict[str, Any], d: ReportDefinition, agreed: AgreementVersion) -> ReportRunCompleted:
    """`report.run_completed.v1` for a run just stored (`row`, as inserted) of the report `d`, under
    the agreement version `agreed`: what the report-runs API shows of it, and who it is agreed with."""
    run_id = row["run_id"]
    return ReportRunCompleted(
        run_id=run_id,
        report=d.name,
        title=d.title,
        frequency=d.frequency,
        period_start=row["period_start"],
        period_end=row["period_end"],
        row_count=row["row_count"],
        agreement_version=agreed.version,
        owner=agreed.owner,
        agreed_with=list(agreed.agreed_with),
        distribution_count=len(agreed.distribution_list),
        content_sha256=row["content_sha256"],
        link=f"/api/v1/report-runs/{run_id}",
        download=f"/api/v1/report-runs/{run_id}/download",
        generated_at=row["generated_at"],
    )
