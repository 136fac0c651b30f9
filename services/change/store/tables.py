"""Every table of the change service, declared once on its metadata (one database, one set of migrations)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from shared.ci_read_model import CIReadModel
from shared.db import UtcDateTime
from shared.idempotency import idempotency_table
from shared.retention_store import retention_tables
from shared.store import service_tables

metadata, outbox, inbox, number_sequence = service_tables()
idempotency_key = idempotency_table(metadata)
retention = retention_tables(metadata)
"""Records control (4.3.3): retention policies, legal holds, the disposal log."""

# The CIs (and their relationships) this service knows from config's events: affected CIs are
# checked against it, a change's services derive from it, dependent-CI conflicts walk it.
ci_read_model = CIReadModel(metadata)

change = Table(
    "change",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("justification", Text, nullable=False, server_default=""),
    Column("type", String(20), nullable=False, index=True),
    Column("category", String(50)),
    Column("status", String(20), nullable=False, index=True),
    Column("requester", String(200), nullable=False, index=True),  # a requester lists only their own changes
    Column("planned_start", UtcDateTime),
    Column("planned_end", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("risk", String(10)),
    Column("planned_ci_changes", JSON, nullable=False, server_default="[]"),
    Column("cmdb_outcome", String(10), nullable=False, server_default="none"),
    Column("cmdb_errors", JSON, nullable=False, server_default="[]"),
    Column("notes", Text, nullable=False, server_default=""),
    Column("risk_reasons", JSON, nullable=False, server_default="[]"),
    Column("failed_at", UtcDateTime),
    # When it reached a final status (closed, cancelled): its retention period counts from here.
    Column("closed_at", UtcDateTime, index=True),
    Column("template_id", Uuid),
    Column("implementation_plan", Text, nullable=False, server_default=""),
    Column("backout_plan", Text, nullable=False, server_default=""),
    Column("test_plan", Text, nullable=False, server_default=""),
    Column("major", Boolean, nullable=False, server_default="false"),
    Column("service_transition", String(20)),
    Column("backed_out", Boolean),
    Column("assessed_by", String(200)),
    Column("risk_set_by", String(200)),
)

# Every approver's decision, kept: who, approve or reject, why, when (ISO/IEC 20000-1 9.2 records).
change_vote = Table(
    "change_vote",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("voter", String(200), primary_key=True),
    Column("approve", Boolean, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("at", UtcDateTime, nullable=False),
)

# One row per CI a change affects; indexed by CI for "which changes touch this CI", covering the
# change id so conflict detection reads the index alone (migration 0006).
change_affected_ci = Table(
    "change_affected_ci",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("ci_id", Uuid, primary_key=True),
    Index("ix_change_affected_ci_ci_id_change_id", "ci_id", "change_id"),
)


# The services a change touches (its CIs' services plus the ones named), by service for the
# maintenance windows and for "which changes touch this service".
change_service = Table(
    "change_service",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", Uuid, primary_key=True, index=True),
)

# Clause 5: the design and transition record of a major or service-level change, and its go-live acceptance.
change_design = Table(
    "change_design",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("requirements", Text, nullable=False),
    Column("acceptance_criteria", JSON, nullable=False),
    Column("service_level_targets", JSON, nullable=False),
    Column("capacity", Text, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("go_live_accepted", Boolean),
    Column("go_live_by", String(200)),
    Column("go_live_at", UtcDateTime),
    Column("go_live_comment", Text),
)

# The post-implementation review, once per change.
change_review = Table(
    "change_review",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("outcome", Text, nullable=False),
    Column("lessons", Text, nullable=False),
    Column("objectives_met", Boolean),
    Column("incident_ids", JSON, nullable=False),
    Column("reviewed_by", String(200), nullable=False),
    Column("reviewed_at", UtcDateTime, nullable=False),
)

# Incidents the incident service linked to a change (incident.linked_to_change.v1), kept once:
# the change shows them and its post-implementation review records them (9.2), its releases and
# deployments show them too (9.3: incidents related to a release after it went out).
change_incident_link = Table(
    "change_incident_link",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("incident_id", Uuid, primary_key=True),
    Column("incident_number", String(20), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("ci_id", Uuid),
    Column("service_id", Uuid),
    Column("linked_at", UtcDateTime, nullable=False),
)


# ---------------------------------------------------------------------------- the schedule

blackout_window = Table(
    "blackout_window",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("start", UtcDateTime, nullable=False, index=True),
    Column("end", UtcDateTime, nullable=False),
    Column("ci_ids", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


# ---------------------------------------------------------------------------- maintenance windows

maintenance_window = Table(
    "maintenance_window",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service_id", Uuid, nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("days", JSON, nullable=False),
    Column("start_time", String(8), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


# ---------------------------------------------------------------------------- templates, releases, deployments

change_template = Table(
    "change_template",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("category", String(50)),
    Column("service_id", Uuid, index=True),
    Column("pipeline_names", JSON, nullable=False, server_default="[]"),
    Column("implementation_plan", Text, nullable=False),
    Column("backout_plan", Text, nullable=False),
    Column("test_plan", Text, nullable=False, server_default=""),
    Column("default_duration_s", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("pipeline_default", Boolean, nullable=False, server_default="false"),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

release = Table(
    "release",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("type", String(20), nullable=False),
    Column("service_id", Uuid, index=True),
    Column("change_ids", JSON, nullable=False, server_default="[]"),
    Column("known_error_ids", JSON, nullable=False, server_default="[]"),
    Column("planned_date", UtcDateTime),
    Column("acceptance_criteria", JSON, nullable=False, server_default="[]"),
    Column("acceptance_result", String(10)),
    Column("acceptance_notes", Text, nullable=False, server_default=""),
    Column("acceptance_by", String(200)),
    Column("status", String(20), nullable=False, index=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deployed_at", UtcDateTime),
    # When it reached a final status (closed, cancelled): its retention period counts from here.
    Column("closed_at", UtcDateTime, index=True),
    Column("notes", Text, nullable=False, server_default=""),
    Column("row_version", Integer, nullable=False),
)

deployment = Table(
    "deployment",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service", String(200), nullable=False, index=True),
    Column("service_id", Uuid, index=True),
    Column("environment", String(20), nullable=False),
    Column("version", String(100)),
    Column("release_id", Uuid, index=True),
    Column("change_id", Uuid, index=True),
    Column("change_number", String(20)),
    Column("result", String(20), nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("commit_sha", String(64)),
    Column("ref", String(255)),
    Column("url", String(2000)),
    Column("source", String(20), nullable=False),
    Column("external_id", String(200)),
    Column("verification", Text, nullable=False, server_default=""),
    Column("rollback_notes", Text, nullable=False, server_default=""),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("row_version", Integer, nullable=False),
    # One record per deployment a pipeline reports, however many statuses it sends about it.
    UniqueConstraint("source", "external_id", name="uq_deployment_source_external_id"),
)

# Every pipeline notification taken, by the id its sender gave it (GitHub: the deployment status
# id): the same notification delivered again is answered from here and changes nothing.
deployment_notification = Table(
    "deployment_notification",
    metadata,
    Column("source", String(20), primary_key=True),
    Column("notification_id", String(200), primary_key=True),
    Column("deployment_id", Uuid, nullable=False, index=True),
    Column("status", String(50), nullable=False),
    Column("delivery_id", String(200)),
    Column("received_at", UtcDateTime, nullable=False),
)


# Changes near continuity-tier services (ISO/IEC 20000-1 6.3.2): the services config's continuity and
# availability plans cover (from continuity.plan_recorded.v1, the latest version of each plan), and
# the continuity and availability impact a change states before its assessment.
continuity_plan_cover = Table(
    "continuity_plan_cover",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("service_ids", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

change_continuity_impact = Table(
    "change_continuity_impact",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("continuity_impact", String(10), nullable=False),
    Column("availability_impact", String(10), nullable=False),
    Column("notes", Text, nullable=False),
    Column("stated_by", String(200), nullable=False),
    Column("stated_at", UtcDateTime, nullable=False),
)

# The costing of changes (ISO/IEC 20000-1 6.4): each change's cost estimate and actual, in integer cents.
change_cost = Table(
    "change_cost",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("estimated_cents", BigInteger),
    Column("actual_cents", BigInteger),
    Column("cost_category", String(20), nullable=False),
    Column("budget_id", Uuid),
    Column("financial_impact", Text, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
