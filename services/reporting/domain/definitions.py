"""The report definitions (ISO/IEC 20000-1 6.2: identity, purpose, audience, frequency, data source)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from services.reporting.domain import change_costs, continuity, costs, customer_levels, outages

Frequency = Literal["daily", "weekly", "monthly"]

PERIOD_FILTERS = ("from", "to")


@dataclass(frozen=True)
class ReportDefinition:
    name: str
    title: str
    purpose: str
    audience: tuple[str, ...]
    frequency: Frequency
    data_source: str
    filters: tuple[str, ...]
    columns: Mapping[str, str]
    """Column name -> what it holds (the CSV header is the names, in this order)."""
    period_applies_to: str
    """What `from`/`to` select on."""


def _d(**kwargs: object) -> ReportDefinition:
    return ReportDefinition(**kwargs)  # type: ignore[arg-type]


DEFINITIONS: tuple[ReportDefinition, ...] = (
    _d(
        name="service-levels",
        title="Service levels: response and resolution compliance",
        purpose=(
            "Performance against service targets (6.1, 6.2 a): share of incidents whose response and "
            "resolution targets were met, per period, service and priority; breaches; the trend over periods"
        ),
        audience=("service owners", "customers", "service level manager"),
        frequency="monthly",
        data_source="incident.* (SLA results on incident.resolved.v1) and sla.breached.v1 events",
        filters=("from", "to", "service_id", "group", "priority", "supplier_id", "period"),
        period_applies_to="the incident's opened_at; rows are grouped by `period` (day, week, month; default month)",
        columns={
            "period": "start of the period (YYYY-MM-DD, UTC)",
            "service_id": "the service (empty: none recorded)",
            "service_name": "the service's name from the CMDB, when known",
            "priority": "incident priority 1 (critical) to 5",
            "incidents": "incidents opened",
            "response_measured": "incidents whose response target has a result (met or missed)",
            "response_met": "of those, met",
            "response_compliance_pct": "response_met / response_measured x 100 (empty when nothing measured)",
            "resolution_measured": "incidents whose resolution target has a result",
            "resolution_met": "of those, met",
            "resolution_compliance_pct": "resolution_met / resolution_measured x 100",
            "breaches": "targets missed (response + resolution)",
        },
    ),
    _d(
        name="incidents",
        title="Incidents: volume, backlog, MTTA, MTTR, major incidents",
        purpose="Workload and performance of incident management (8.1, 6.2 b, c), by service and group",
        audience=("service desk manager", "service owners"),
        frequency="weekly",
        data_source="incident.* events",
        filters=("from", "to", "service_id", "group", "priority", "supplier_id"),
        period_applies_to="the incident's opened_at",
        columns={
            "service_id": "the service",
            "service_name": "the service's name from the CMDB, when known",
            "assignment_group": "the group the incident is (last) assigned to",
            "opened": "incidents opened",
            "resolved": "of those, resolved or closed now",
            "backlog": "of those, still open now",
            "backlog_avg_age_hours": "mean age of the open ones, now",
            "backlog_oldest_age_hours": "age of the oldest open one, now",
            "mtta_minutes": "mean time to acknowledge: first assignment or start of work - opened",
            "mttr_hours": "mean time to resolve: resolved - opened, of the resolved ones",
            "major_incidents": "major incidents among them",
            "reassignments": "times they moved from one group to another",
        },
    ),
    _d(
        name="requests",
        title="Service requests: volume and fulfilment times",
        purpose="Workload and fulfilment performance of request management (8.1, 6.2 a, c)",
        audience=("service desk manager", "service owners"),
        frequency="weekly",
        data_source="request.* and sla.breached.v1 events",
        filters=("from", "to", "service_id", "group", "priority"),
        period_applies_to="the request's submitted_at",
        columns={
            "service_id": "the service",
            "catalogue_item": "the catalogue item requested",
            "submitted": "requests submitted",
            "fulfilled": "of those, fulfilled",
            "open": "of those, not yet fulfilled, rejected or cancelled",
            "rejected": "of those, rejected",
            "cancelled": "of those, cancelled",
            "avg_fulfilment_hours": "mean fulfilled - submitted",
            "max_fulfilment_hours": "longest fulfilled - submitted",
            "fulfilment_compliance_pct": "fulfilment targets met / measured x 100",
        },
    ),
    _d(
        name="problems",
        title="Problems: open, known errors, recurring incidents, closed by changes",
        purpose="Effectiveness of problem management (8.2, 6.2 d, e)",
        audience=("problem manager", "service owners"),
        frequency="monthly",
        data_source="problem.* and incident.linked_to_problem.v1 events",
        filters=("from", "to", "service_id"),
        period_applies_to="the problem's opened_at (recurring incidents: the incident's opened_at)",
        columns={
            "service_id": "the service",
            "opened": "problems opened",
            "open": "of those, not resolved or closed",
            "known_errors": "of those, published as known errors",
            "resolved": "of those, resolved or closed",
            "resolved_by_change": "of those, resolved by a change",
            "from_recurrence": "of those, opened by problem analysis on recurring incidents",
            "linked_incidents": "incidents linked to them",
            "recurring_incidents": "incidents linked to a problem as a recurrence",
        },
    ),
    _d(
        name="changes",
        title="Changes: volume by type, success rate, emergency ratio, failures, incidents caused",
        purpose="Performance of change management (9.2, 6.2 b, d)",
        audience=("change manager", "CAB"),
        frequency="weekly",
        data_source="change.* and incident.linked_to_change.v1 events",
        filters=("from", "to", "service_id"),
        period_applies_to="the change's created_at",
        columns={
            "type": "standard, normal or emergency",
            "changes": "changes recorded",
            "implemented": "implemented successfully",
            "failed": "failed",
            "backed_out": "failed and backed out",
            "success_rate_pct": "implemented / (implemented + failed) x 100",
            "incidents_caused": "incidents linked to them as caused by the change",
        },
    ),
    _d(
        name="dora",
        title="DORA metrics per service",
        purpose=(
            "Delivery performance per service (9.3, 6.2 b): deployment frequency, lead time for changes, "
            "change failure rate, time to restore service"
        ),
        audience=("service owners", "engineering leads", "change manager"),
        frequency="monthly",
        data_source="deployment.recorded.v1, change.* , incident.linked_to_change.v1 and incident.* events",
        filters=("from", "to", "service_id"),
        period_applies_to="deployments finished, changes implemented and outages resolved in the window "
        "(default: the 30 days before `to`, default now)",
        columns={
            "service_id": "the service",
            "service_name": "the service's name from the CMDB, when known",
            "deployments": "finished deployments to production (succeeded, failed or rolled back)",
            "deployment_frequency_per_day": "succeeded production deployments / days in the window",
            "lead_time_hours": "median of implemented - recorded over the changes on the service",
            "change_failure_rate_pct": "production deployments that failed, were rolled back or whose change "
            "caused an incident / deployments x 100",
            "restores": "outages resolved (priority 1 or major incidents on the service)",
            "time_to_restore_hours": "median resolved - opened of those outages",
        },
    ),
    _d(
        name="availability",
        title="Availability per service",
        purpose="Availability against its target (6.3.3): downtime from outage incidents, unplanned",
        audience=("service owners", "customers", "availability manager"),
        frequency="monthly",
        data_source="incident.* events (outage: a priority 1 or major incident on the service, opened -> resolved)",
        filters=("from", "to", "service_id"),
        period_applies_to="the window the availability is measured over (default: the 30 days before `to`)",
        columns={
            "service_id": "the service",
            "service_name": "the service's name from the CMDB, when known",
            "window_hours": "length of the window",
            "outages": "outage incidents overlapping the window",
            "downtime_minutes": "union of their open -> resolved intervals inside the window",
            "availability_pct": "(window - downtime) / window x 100",
            "target_pct": "the availability target (settings)",
            "target_met": "availability_pct >= target_pct",
        },
    ),
    _d(
        name="cmdb",
        title="CMDB: CIs by type and status, unauthorised changes, audit findings",
        purpose="Control of the configuration (9.1, 6.2 d): what the CMDB holds and what changed without a change",
        audience=("configuration manager", "auditors"),
        frequency="monthly",
        data_source="ci.*, ci.unauthorised_change_detected.v1, config.change_rejected.v1 events",
        filters=("from", "to", "service_id", "supplier_id"),
        period_applies_to="when a finding was detected (the CI counts are as of now)",
        columns={
            "type": "CI type",
            "status": "CI status",
            "cis": "CIs",
            "critical": "of those, criticality 1",
            "unauthorised_changes": "unauthorised changes detected on them",
        },
    ),
    _d(
        name="suppliers",
        title="Supplier scorecards",
        purpose="Supplier performance against contract targets (7.2, 4.2)",
        audience=("supplier manager", "service owners"),
        frequency="monthly",
        data_source=(
            "supplier.*, contract.* (terms and the CIs and services covered), supplier.target_breached.v1, "
            "dispute.* and incident.* events"
        ),
        filters=("from", "to", "supplier_id", "service_id"),
        period_applies_to="incidents' opened_at and breaches' occurred_at",
        columns={
            "supplier_id": "the supplier",
            "supplier_name": "its name",
            "status": "its status",
            "active_contracts": "contracts in force now (active or expiring, within their term)",
            "incidents": (
                "incidents counted toward the supplier, each once: assigned to it, or on a CI or service that "
                "one of its contracts covered and was in force when the incident opened"
            ),
            "incidents_resolved": "of those, resolved or closed",
            "resolution_compliance_pct": "resolution targets met / measured x 100 on those incidents",
            "target_breaches": "contract targets missed (supplier.target_breached.v1)",
            "response_breaches": "of those, response targets",
            "resolution_breaches": "of those, resolution targets",
            "availability_breaches": "of those, availability targets",
            "change_success_breaches": "of those, change success targets",
            "open_disputes": "disputes open now",
        },
    ),
    _d(
        name="workload",
        title="Workload per group",
        purpose="Workload characteristics and their changes over time (6.1, 6.2 c), per group",
        audience=("team leads", "service desk manager"),
        frequency="daily",
        data_source="incident.* and request.* events",
        filters=("from", "to", "service_id", "group", "priority", "period"),
        period_applies_to="opened_at / submitted_at; rows grouped by `period` (default day)",
        columns={
            "period": "start of the period (YYYY-MM-DD, UTC)",
            "assignment_group": "the group",
            "incidents_opened": "incidents opened",
            "incidents_resolved": "of those, resolved now",
            "requests_submitted": "requests submitted",
            "requests_fulfilled": "of those, fulfilled now",
            "reassignments": "reassignments of those incidents",
            "escalations": "escalations of those incidents",
        },
    ),
    _d(
        name="hotspots",
        title="Incident hot spots: the configuration items with the most incidents",
        purpose=(
            "Where incidents recur (8.2 problem identification, 6.2 d): the CIs with the most incidents in the "
            "period, with how many are still open, major, or linked to a problem"
        ),
        audience=("problem manager", "service owners", "configuration manager"),
        frequency="weekly",
        data_source="incident.* and incident.linked_to_problem.v1 events; CI names from ci.* events",
        filters=("from", "to", "service_id", "group", "priority", "supplier_id"),
        period_applies_to="the incident's opened_at; the 50 CIs with the most incidents, most first",
        columns={
            "ci_id": "the configuration item",
            "ci_name": "its name from the CMDB, when known",
            "service_id": "the service of its latest incident",
            "service_name": "that service's name, when known",
            "incidents": "incidents on it",
            "open": "of those, still open now",
            "major": "of those, major incidents",
            "problems": "distinct problems they are linked to",
            "recurring": "of those incidents, linked to a problem as a recurrence",
            "last_opened_at": "when the latest of them was opened",
        },
    ),
    _d(
        name="significant-events",
        title="Significant events: major incidents, production deployments, emergency changes",
        purpose=(
            "Significant events in the period (6.2 b): major incidents with their duration and post-incident "
            "review, deployments of new or changed services to production, and emergency changes"
        ),
        audience=("service owners", "customers", "service level manager", "top management"),
        frequency="monthly",
        data_source=(
            "incident.* events (major: incident.major_declared.v1 or declared on creation; closed: "
            "incident.closed.v1), deployment.recorded.v1, change.* and continuity.* events"
        ),
        filters=("from", "to", "service_id"),
        period_applies_to=(
            "a major incident's opened_at, a production deployment's finished_at, an emergency change's created_at"
        ),
        columns={
            "kind": "major_incident, deployment, emergency_change or continuity_invocation",
            "reference": "the incident or change number; a deployment's id; an invocation's major incident",
            "service_id": "the service (an emergency change on several: their ids, comma-separated)",
            "service_name": "the service's name from the CMDB (a deployment: else the name it was recorded with)",
            "started_at": "opened (major incident), started (deployment, when recorded), created (emergency change)",
            "ended_at": "resolved (major incident), finished (deployment), implemented or failed (emergency change)",
            "duration_hours": "ended_at - started_at",
            "status": "the incident's or change's status now; a deployment's result",
            "change_number": "the change the deployment was made under, or the change that caused the incident",
            "review_status": "major incidents: recorded when closed (the incident service closes a major incident "
            "only once its post-incident review is recorded), else unknown",
        },
    ),
    _d(
        name="satisfaction",
        title="Satisfaction: survey scores and complaints per service and per caller",
        purpose="Customer satisfaction and complaints (7.1, 6.2): transactional survey scores and complaints",
        audience=("service owners", "customers", "service level manager", "top management"),
        frequency="monthly",
        data_source="survey.issued.v1, survey.answered.v1 and complaint.* events",
        filters=("from", "to", "service_id"),
        period_applies_to="a survey's issued_at, a complaint's received_at",
        columns={
            "scope": "service (one row per service), then caller (one per person asked or complaining)",
            "service_id": "the service (service rows; empty: none recorded)",
            "service_name": "the service's name from the CMDB, when known",
            "respondent": "the caller or requester (caller rows): no customer register yet",
            "surveys_issued": "surveys sent",
            "answered": "of those, answered",
            "response_rate_pct": "answered / surveys_issued x 100",
            "average_score": "mean score of the answers (1-5)",
            "satisfied_pct": "answers scoring 4 or 5 / answered x 100",
            "low_score_complaints": "answers whose low score opened a complaint",
            "complaints": "complaints received (any channel, surveys included)",
        },
    ),
    _d(
        name="capacity",
        title="Capacity: utilisation against thresholds, runway, performance incidents",
        purpose=(
            "Capacity management (6.5): the CIs whose capacity metrics crossed a threshold, where each stands, "
            "how long the forecast gives until critical, and the performance incidents on them"
        ),
        audience=("capacity manager", "service owners", "configuration manager"),
        frequency="weekly",
        data_source=(
            "capacity.threshold_breached.v1 and capacity.threshold_cleared.v1 (config's sampling of Prometheus), "
            "incident.* (category capacity: opened by a critical breach), ci.* for names"
        ),
        filters=("from", "to", "service_id"),
        period_applies_to="the performance incidents' opened_at (levels and runways are as of now)",
        columns={
            "ci_id": "the CI",
            "ci_name": "its name from the CMDB, when known",
            "service_id": "the service it belongs to",
            "metric": "the capacity metric",
            "unit": "its unit",
            "level": "ok, warning or critical after the last crossing (worst first)",
            "value": "the sample that crossed last",
            "warning": "the warning threshold",
            "critical": "the critical threshold",
            "utilisation_pct": "value / critical x 100",
            "runway_days": "at warning: days until critical by the linear forecast of its last warning breach;"
            " 0 at critical",
            "breaches": "thresholds breached (warning and critical), ever",
            "critical_breaches": "of those, critical",
            "last_breached_at": "the last breach's sample time",
            "performance_incidents": "incidents of category capacity on the CI opened in the period",
        },
    ),
    _d(**continuity.DEFINITION),
    _d(**outages.DEFINITION),
    _d(**customer_levels.DEFINITION),
    _d(**costs.DEFINITION),
    _d(**change_costs.DEFINITION),
)

BY_NAME: dict[str, ReportDefinition] = {d.name: d for d in DEFINITIONS}
