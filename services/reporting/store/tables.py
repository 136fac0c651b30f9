"""Every table of the reporting service, declared once: the event log, the fact tables (their
columns from `domain.facts`, typed by `store.fact_columns`), the daily service-level figures,
stored report runs and report governance (agreements, the distribution log, findings).

Agreement versions and findings are append-only and the stored runs immutable: the store has no
update or delete for them, and the migration adds database triggers that refuse one.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    literal_column,
)

from services.reporting.domain import change_costs, continuity, costs
from services.reporting.domain.facts import FACT_TABLES
from services.reporting.store.fact_columns import fact_tables
from shared.db import BigIntKey, UtcDateTime
from shared.idempotency import idempotency_table
from shared.store import service_tables

metadata, outbox, inbox, number_sequence = service_tables()
idempotency_key = idempotency_table(metadata)

event_log = Table(
    "event_log",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("type", String(200), nullable=False, index=True),
    Column("source", String(200), nullable=False, index=True),
    Column("subject", String(200), index=True),
    Column("time", UtcDateTime, nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False, server_default=func.now()),
)

# The columns reports select periods and services by.
_INDEXED = {
    "incident_facts": {"opened_at"},  # and (service_id, opened_at), below
    "request_facts": {"submitted_at"},
    "change_facts": {"created_at"},
    "deployment_facts": {"finished_at"},
    "contract_coverage_facts": {"item_id"},
    "survey_facts": {"issued_at"},
    "complaint_facts": {"received_at"},
    "cost_actual_facts": {"service_id"},  # a budget's actuals: its service's, in its period
}
# Indexed where set only (many incidents have no supplier, some no CI: those rows cost the
# consumer no index entry): a supplier's incidents, those assigned to it and those on the CIs its
# contracts cover, are found through them.
_INDEXED_WHERE_SET = {"incident_facts": ("ci_id", "supplier_id")}

FACTS: dict[str, Table] = fact_tables(
    (*FACT_TABLES, *continuity.FACT_TABLES, *costs.FACT_TABLES, *change_costs.FACT_TABLES),
    metadata,
    _INDEXED,
    _INDEXED_WHERE_SET,
)
incident_facts = FACTS["incident_facts"]
request_facts = FACTS["request_facts"]
problem_facts = FACTS["problem_facts"]
change_facts = FACTS["change_facts"]
change_service_facts = FACTS["change_service_facts"]
change_incident_facts = FACTS["change_incident_facts"]
deployment_facts = FACTS["deployment_facts"]
ci_facts = FACTS["ci_facts"]
cmdb_finding_facts = FACTS["cmdb_finding_facts"]
supplier_facts = FACTS["supplier_facts"]
contract_facts = FACTS["contract_facts"]
contract_coverage_facts = FACTS["contract_coverage_facts"]
supplier_breach_facts = FACTS["supplier_breach_facts"]
dispute_facts = FACTS["dispute_facts"]
survey_facts = FACTS["survey_facts"]
complaint_facts = FACTS["complaint_facts"]
capacity_facts = FACTS["capacity_facts"]
agreement_facts = FACTS["agreement_facts"]

# An outage (availability, DORA time to restore): a priority 1 or major incident (on a service);
# an incident linked to a problem as a recurrence. Written with their values in the SQL text,
# so that the planners match them to the partial indexes below.
OUTAGE = (incident_facts.c.priority == literal_column("1")) | incident_facts.c.major.is_(True)
RECURRENCE = incident_facts.c.problem_link_reason == literal_column("'recurrence'")
# A service's incidents of a period (every incident report filters by service).
Index("ix_incident_facts_service_id_opened_at", incident_facts.c.service_id, incident_facts.c.opened_at)
# For the few rows availability, DORA, problems, hot spots and major incidents read (index-only
# scans on PostgreSQL).
Index(
    "ix_incident_facts_outage",
    incident_facts.c.opened_at,
    postgresql_include=["service_id", "resolved_at"],
    postgresql_where=OUTAGE,
    sqlite_where=OUTAGE,
)
Index(
    "ix_incident_facts_major",
    incident_facts.c.opened_at,
    postgresql_where=incident_facts.c.major.is_(True),
    sqlite_where=incident_facts.c.major.is_(True),
)
Index(
    "ix_incident_facts_problem",
    incident_facts.c.ci_id,
    incident_facts.c.problem_id,
    postgresql_where=incident_facts.c.problem_id.is_not(None),
    sqlite_where=incident_facts.c.problem_id.is_not(None),
)
Index(
    "ix_incident_facts_recurrence",
    incident_facts.c.opened_at,
    postgresql_include=["service_id", "assignment_group", "priority", "supplier_id"],
    postgresql_where=RECURRENCE,
    sqlite_where=RECURRENCE,
)

# The service-levels figures per UTC day, service and priority, kept by triggers on incident_facts
# (migration 0004): a change row (+1/-1) each time an incident starts or stops counting for a day,
# service and priority or changes its results; `compact_service_level_days` merges the changes
# into `service_level_day`. A report sums both. No service: the nil UUID (a key column).
NO_SERVICE = uuid.UUID(int=0)
SERVICE_LEVEL_COUNTS = ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met")


def _service_level_columns() -> list[Column[Any]]:
    return [
        Column("day", Date, nullable=False, primary_key=True),
        Column("service_id", Uuid, nullable=False, primary_key=True),
        Column("priority", Integer, nullable=False, primary_key=True),
        *(Column(name, Integer, nullable=False) for name in SERVICE_LEVEL_COUNTS),
    ]


service_level_day = Table("service_level_day", metadata, *_service_level_columns())
service_level_day_change = Table(
    "service_level_day_change",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    *(Column(c.name, c.type, nullable=False) for c in _service_level_columns()),
)

report_run = Table(
    "report_run",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("report", String(50), nullable=False),
    Column("frequency", String(10), nullable=False),
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("generated_at", UtcDateTime, nullable=False, index=True),
    Column("row_count", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    # The agreement version it was produced under and the SHA-256 of its content (domain/agreements.py).
    Column("agreement_version", Integer),
    Column("content_sha256", String(64)),
    # Once per report and period, however many replicas run the scheduler.
    UniqueConstraint("report", "frequency", "period_start"),
)


report_agreement = Table(
    "report_agreement",
    metadata,
    Column("report", String(50), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("agreed_with", JSON, nullable=False),
    Column("agreed_at", UtcDateTime),
    Column("distribution_list", JSON, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    # Two writers who read the same version both try to write the next one: one of them wins.
    PrimaryKeyConstraint("report", "version"),
)

report_distribution = Table(
    "report_distribution",
    metadata,
    Column("distribution_id", Uuid, primary_key=True),
    Column("run_id", Uuid, ForeignKey("report_run.run_id"), nullable=False, index=True),
    Column("recipient", String(2000), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(1000)),
    Column("last_attempt_at", UtcDateTime),
    Column("next_attempt_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("run_id", "channel", "recipient"),
    Index("ix_report_distribution_due", "status", "next_attempt_at"),
)

report_finding = Table(
    "report_finding",
    metadata,
    Column("finding_id", Uuid, primary_key=True),
    Column("run_id", Uuid, ForeignKey("report_run.run_id"), nullable=False, index=True),
    Column("text", String(4000), nullable=False),
    Column("actions", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# Service reviews (ISO/IEC 20000-1 8.3.3): a review meeting with the customer, the report runs it
# went through, the feedback, the new requirements (each may name the change raised for it) and
# the actions agreed, each with its owner, due date and status.
service_review = Table(
    "service_review",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("customer_id", Uuid, index=True),
    Column("held_on", Date, nullable=False, index=True),
    Column("attendees", JSON, nullable=False),
    Column("report_run_ids", JSON, nullable=False),
    Column("feedback", Text, nullable=False),
    Column("requirements", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The improvement register (ISO/IEC 20000-1 4.5.5): improvements and nonconformities from every
# process, one entry per source record (`source`, `source_ref` unique: a redelivered or replayed
# event raises nothing twice), with its owner, target date, status and benefit measured.
improvement = Table(
    "improvement",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("source", String(40), nullable=False),
    Column("source_ref", String(200)),  # none for an entry raised by hand from no record
    Column("owner", String(200), nullable=False, index=True),
    Column("target_date", Date, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("measure", String(200), nullable=False),
    Column("figure_before", Float),
    Column("figure_after", Float),
    Column("reason", String(2000), nullable=False),
    Column("raised_by", String(200), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("version", Integer, nullable=False),
    UniqueConstraint("source", "source_ref", name="uq_improvement_source"),
)

# The intake policy (one row, id 1; absent: the defaults): the breach threshold, the low score,
# the default owner and target of entries raised from events.
improvement_policy = Table(
    "improvement_policy",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sla_breach_threshold", Integer, nullable=False),
    Column("low_score_max", Integer, nullable=False),
    Column("default_owner", String(200), nullable=False),
    Column("target_days", Integer, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# SLA breaches counted per service and calendar month, for the threshold that raises an entry.
improvement_breach_tally = Table(
    "improvement_breach_tally",
    metadata,
    Column("service", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("breaches", Integer, nullable=False),
    PrimaryKeyConstraint("service", "month"),
)

# Internal audits (ISO/IEC 20000-1 4.5.4.2): the programme of a period, its audits and their
# findings (JSON on the audit: kind, clause, text, corrective action, the register entry raised).
audit_programme = Table(
    "audit_programme",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("scope", Text, nullable=False),
    Column("criteria", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

internal_audit = Table(
    "internal_audit",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("programme_id", Uuid, ForeignKey("audit_programme.id"), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("scope", Text, nullable=False),
    Column("lead_auditor", String(200), nullable=False),
    Column("auditees", JSON, nullable=False),
    Column("planned_on", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("findings", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# Management reviews (ISO/IEC 20000-1 4.5.4.3): the report runs gone through, each with the
# figures it showed (copied when the review is recorded), the audits, the register's state, and the
# decisions and actions.
management_review = Table(
    "management_review",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("held_on", Date, nullable=False, index=True),
    Column("chair", String(200), nullable=False),
    Column("attendees", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("audit_ids", JSON, nullable=False),
    Column("improvements_by_status", JSON, nullable=False),
    Column("conclusions", Text, nullable=False),
    Column("decisions", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
