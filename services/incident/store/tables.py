"""Every table of the incident service, declared once on its one metadata: incidents and their
timeline, problem management and alert intake, SLA clocks, the request catalogue and requests."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
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
    false,
)

from shared.ci_read_model import CIReadModel
from shared.db import BigIntKey, UtcDateTime
from shared.history import field_history_table
from shared.idempotency import idempotency_table
from shared.retention_store import retention_tables
from shared.store import service_tables

metadata, outbox, inbox, number_sequence = service_tables()
ci_read_model = CIReadModel(metadata)
idempotency_key = idempotency_table(metadata)
retention = retention_tables(metadata)
"""Records control (4.3.3): retention policies, legal holds, the disposal log."""

# ---------------------------------------------------------------------------- incidents

incident = Table(
    "incident",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("caller", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("impact", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("ci_id", Uuid),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("assignment_group", String(100)),
    Column("assignee", String(200)),
    Column("hold_reason", String(30)),
    Column("resolution_code", String(50)),
    Column("resolution_notes", Text, nullable=False, server_default=""),
    Column("first_response_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    # Problem management's links (8.2): the problem and known error it is linked to, the
    # workaround offered, and the change that probably caused it.
    Column("problem_id", Uuid, index=True),
    Column("problem_number", String(20)),
    Column("known_error_id", Uuid),
    Column("workaround", Text),
    Column("caused_by_change_id", Uuid, index=True),
    Column("caused_by_change_number", String(20)),
    Column("category", String(100)),
    Column("subcategory", String(100)),
    Column("service_id", Uuid),
    Column("supplier_id", Uuid, index=True),
    Column("priority_override_reason", Text),
    Column("major", Boolean, nullable=False, server_default=false()),
    Column("major_manager", String(200)),
    Column("major_declared_at", UtcDateTime),
    Column("closed_by", String(20)),
    Column("customer_id", Uuid),
)

# The list answers newest first (opened_at DESC, id): one index per filter people use, with that
# order after the filtered columns, so a page of 50 is read from the index without sorting the
# matches (also the equality lookups the single-column indexes served before). Text search (`q`)
# uses trigram indexes on PostgreSQL (`pg_trgm`, ILIKE '%...%'). See docs/benchmarks.md.
_NEWEST = (incident.c.opened_at.desc(), incident.c.id)
for _name, _columns in (
    ("ix_incident_status_priority_opened_at", (incident.c.status, incident.c.priority)),
    ("ix_incident_status_opened_at", (incident.c.status,)),
    ("ix_incident_assignment_group_opened_at", (incident.c.assignment_group,)),
    ("ix_incident_assignee_opened_at", (incident.c.assignee,)),
    ("ix_incident_ci_id_opened_at", (incident.c.ci_id,)),
    ("ix_incident_service_id_opened_at", (incident.c.service_id,)),
    ("ix_incident_category_opened_at", (incident.c.category,)),
    ("ix_incident_opened_at", ()),
):
    Index(_name, *_columns, *_NEWEST)
for _column in (incident.c.title, incident.c.description):
    Index(
        f"ix_incident_{_column.name}_trgm",
        _column,
        postgresql_using="gin",
        postgresql_ops={_column.name: "gin_trgm_ops"},
    )

# Every field an action changed: who, when, old, new, why (ISO/IEC 20000-1 4.3.3 records).
incident_history = field_history_table(metadata, "incident_history", "incident_id", action_length=20)

# The timeline's own entries: work notes, comments to the caller, major incident updates.
incident_note = Table(
    "incident_note",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("incident_id", Uuid, nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("author", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("visibility", String(20), nullable=False),
    Column("text", Text, nullable=False),
)

# The post-incident review of a major incident (one per incident; revised in place, the
# history keeps each version).
incident_review = Table(
    "incident_review",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("summary", Text, nullable=False),
    Column("root_cause", Text, nullable=False),
    Column("lessons", Text, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)


# ---------------------------------------------------------------------------- problem management and alerts

problem = Table(
    "problem",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", String(30), nullable=False, index=True),
    Column("origin", String(20), nullable=False),
    Column("impact", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("ci_id", Uuid, index=True),
    Column("service_id", Uuid, index=True),
    Column("category", String(100)),
    Column("owner", String(200)),
    Column("root_cause", Text, nullable=False, server_default=""),
    Column("workaround", Text, nullable=False, server_default=""),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("change_id", Uuid),
    Column("change_number", String(20)),
    Column("known_error_id", Uuid),
    # The cluster problem analysis opened it for ("ci:<id>" or "service:<id>:<category>").
    Column("recurrence_key", String(200)),
    # Set while the problem is open: one open problem per cluster, also with several consumers
    # racing (the unique index is the backstop of the advisory lock taken per cluster).
    Column("open_recurrence_key", String(200), unique=True),
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("version", Integer, nullable=False),
)

problem_history = field_history_table(metadata, "problem_history", "problem_id", action_length=30)

problem_incident = Table(
    "problem_incident",
    metadata,
    Column("problem_id", Uuid, primary_key=True),
    Column("incident_id", Uuid, primary_key=True, index=True),
    Column("incident_number", String(20), nullable=False),
    Column("reason", String(20), nullable=False),  # recurrence | known_error | manual | outage
    Column("linked_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
)

known_error = Table(
    "known_error",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("problem_id", Uuid, nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("symptoms", Text, nullable=False, server_default=""),
    Column("root_cause", Text, nullable=False),
    Column("workaround", Text, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("ci_id", Uuid, index=True),
    Column("service_id", Uuid, index=True),
    Column("category", String(100)),
    Column("usage_count", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# What problem analysis knows of each incident, from incident.created.v1 (never from the
# incident table: the analysis is fed by events, like any other consumer).
incident_fact = Table(
    "incident_fact",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False),
    Column("ci_id", Uuid, index=True),
    Column("service_id", Uuid),
    Column("category", String(100)),
    Column("opened_at", UtcDateTime, nullable=False, index=True),
    Index("ix_incident_fact_service_category", "service_id", "category"),
)

# Changes on CIs, from change.implementing|implemented|failed.v1: one row per change and CI.
change_on_ci = Table(
    "change_on_ci",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("ci_id", Uuid, primary_key=True, index=True),
    Column("change_number", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # implementing | implemented | failed
    Column("planned_start", UtcDateTime),
    Column("planned_end", UtcDateTime),
    Column("implemented_at", UtcDateTime),  # when it was implemented or failed
    Column("updated_at", UtcDateTime, nullable=False),
)

incident_change_link = Table(
    "incident_change_link",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("change_id", Uuid, primary_key=True, index=True),
    Column("change_number", String(20), nullable=False),
    Column("ci_id", Uuid),
    Column("reason", String(20), nullable=False),  # probable_cause | manual
    Column("change_implemented_at", UtcDateTime),
    Column("linked_at", UtcDateTime, nullable=False),
)

# One row per alert (fingerprint) and the incident it opened; repeated firings count here.
monitoring_alert = Table(
    "monitoring_alert",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("fingerprint", String(100), nullable=False, index=True),
    Column("incident_id", Uuid, nullable=False, index=True),
    Column("alertname", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # firing | resolved
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime),
    Column("generator_url", Text, nullable=False, server_default=""),
    Column("occurrences", Integer, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("change_id", Uuid),
    Column("change_number", String(20)),
    Column("receiver", String(200), nullable=False, server_default=""),
)


# ---------------------------------------------------------------------------- SLA clocks

sla_calendar = Table(
    "sla_calendar",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("time_zone", String(64), nullable=False),
    Column("working_hours", JSON, nullable=False),
    Column("holidays", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

sla_policy = Table(
    "sla_policy",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("ticket_kind", String(10), nullable=False),
    Column("service_id", Uuid),
    Column("priority", Integer, nullable=False),
    Column("response_target_s", Integer, nullable=False),
    Column("resolution_target_s", Integer, nullable=False),
    Column("calendar_id", Uuid, ForeignKey("sla_calendar.id"), nullable=False, index=True),
    Column("warning_share", Float),
    Column("on_warning", JSON),
    Column("on_breach", JSON),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("customer_id", Uuid),
    Column("agreement_number", String(20), index=True),
    Index("ix_sla_policy_kind_priority", "ticket_kind", "priority"),
)

sla_clock = Table(
    "sla_clock",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("ticket_kind", String(10), nullable=False),
    Column("ticket_id", Uuid, nullable=False),
    Column("target", String(12), nullable=False),
    # where the ticket stands (the watcher's events carry it without reading the ticket)
    Column("ticket_number", String(20), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("service_id", Uuid),
    Column("assignment_group", String(100)),
    Column("ci_id", Uuid),
    Column("supplier_id", Uuid),
    # the clock
    Column("policy_id", Uuid, nullable=False, index=True),
    Column("target_s", Integer, nullable=False),
    Column("warn_s", Integer),
    Column("state", String(12), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("elapsed_s", Integer, nullable=False),
    Column("warn_at", UtcDateTime),
    Column("due_at", UtcDateTime),
    Column("warned", Boolean, nullable=False),
    Column("breached", Boolean, nullable=False),
    Column("stopped_at", UtcDateTime),
    Column("pauses", Integer, nullable=False),
    # The watcher's one question: the earliest instant with a warning or breach still to raise
    # (null: nothing left). One indexed range; the planner sees its real distribution, where
    # flags and instants in separate columns made it read every open clock.
    Column("alert_at", UtcDateTime, index=True),
    UniqueConstraint("ticket_id", "target", name="uq_sla_clock_ticket_target"),
)

sla_notice = Table(
    "sla_notice",
    metadata,
    Column("ticket_id", Uuid, nullable=False),
    Column("target", String(12), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("ticket_kind", String(10), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    # Exactly once per ticket, target and kind: a second watcher's insert conflicts.
    PrimaryKeyConstraint("ticket_id", "target", "kind", name="pk_sla_notice"),
)


# ---------------------------------------------------------------------------- the catalogue and service requests

catalogue_item = Table(
    "catalogue_item",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("service_id", Uuid, index=True),
    Column("needs_approval", Boolean, nullable=False),
    Column("approver_role", String(50)),
    Column("fulfilment_group", String(100), nullable=False),
    Column("default_priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

service_request = Table(
    "service_request",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("catalogue_item_id", Uuid, ForeignKey("catalogue_item.id"), nullable=False, index=True),
    Column("catalogue_item", String(100), nullable=False),
    Column("service_id", Uuid),
    Column("needs_approval", Boolean, nullable=False),
    Column("approver_role", String(50)),
    Column("requester", String(200), nullable=False, index=True),
    Column("requested_for", String(200), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("assignment_group", String(100), nullable=False, index=True),
    Column("assignee", String(200)),
    Column("approver", String(200)),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("fulfilment_started_at", UtcDateTime),
    Column("fulfilled_at", UtcDateTime),
    Column("fulfilment_notes", Text, nullable=False, server_default=""),
    Column("closed_at", UtcDateTime),
)

service_request_history = field_history_table(metadata, "service_request_history", "request_id", action_length=20)
