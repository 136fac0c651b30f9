"""The supplier service's tables (SQLAlchemy Core). Migrations: services/supplier/migrations/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
)

from shared.ci_read_model import CIReadModel
from shared.db import UtcDateTime
from shared.history import field_history_table
from shared.idempotency import idempotency_table
from shared.retention_store import retention_tables
from shared.store import service_tables

metadata, outbox, inbox, number_sequence = service_tables()
idempotency_key = idempotency_table(metadata)
retention = retention_tables(metadata)
"""Records control (4.3.3): retention policies, legal holds, the disposal log."""
ci_read_model = CIReadModel(metadata)

supplier = Table(
    "supplier",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # domain.name_key(name); casefolding can lengthen a name (up to 3 characters for one), hence 600.
    Column("name_key", String(600), nullable=False, unique=True),
    Column("category", String(20), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("risk_rating", String(10), nullable=False),
    Column("supplier_manager", String(200)),
    Column("contact_email", String(254)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("lead_supplier_id", Uuid, index=True),
    Column("contacts", JSON, nullable=False, server_default="[]"),
    Column("service_ids", JSON, nullable=False, server_default="[]"),
    Column("ci_ids", JSON, nullable=False, server_default="[]"),
)

# Every field change of a supplier, contract or dispute: who, when, old, new, why (4.3.3).
record_history = field_history_table(
    metadata,
    "record_history",
    "record_id",
    Column("record_type", String(20), nullable=False),
    Column("amendment", Integer),
    action_length=30,
)

# The register of processes (or parts of them) that suppliers operate (4.2).
operated_process = Table(
    "operated_process",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("process", String(40), nullable=False),
    Column("scope", Text, nullable=False),
    Column("contract_id", Uuid),
    Column("measurement", Text, nullable=False),
    Column("kpis", JSON, nullable=False),
    Column("process_owner", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

contract = Table(
    "contract",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("scope", Text, nullable=False),
    Column("service_ids", JSON, nullable=False),
    Column("ci_ids", JSON, nullable=False),
    Column("starts_on", UtcDateTime, nullable=False),
    Column("ends_on", UtcDateTime, nullable=False),
    Column("notice_period_days", Integer, nullable=False),
    Column("renewal_terms", Text, nullable=False),
    Column("value", Numeric(16, 2)),
    Column("currency", String(3)),
    Column("charging_basis", String(30), nullable=False),
    Column("targets", JSON, nullable=False),
    Column("availability_pct", Float),
    Column("workload_limits", Text, nullable=False),
    Column("exceptions", Text, nullable=False),
    Column("reporting_obligations", JSON, nullable=False),
    Column("exit_terms", Text, nullable=False),
    Column("document_refs", JSON, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("term", Integer, nullable=False),
    Column("amendments", Integer, nullable=False),
    Column("activated_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# What a contract covers, one row per CI or service: "which contracts cover this CI" is one index read.
contract_coverage = Table(
    "contract_coverage",
    metadata,
    Column("contract_id", Uuid, nullable=False),
    Column("item_kind", String(10), nullable=False),
    Column("item_id", Uuid, nullable=False, index=True),
    PrimaryKeyConstraint("contract_id", "item_kind", "item_id"),
)

contract_amendment = Table(
    "contract_amendment",
    metadata,
    Column("contract_id", Uuid, nullable=False),
    Column("number", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("review_id", Uuid, index=True),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("contract_id", "number"),
)

# The expiry watcher's exactly-once key: one row per contract, notice kind and deadline, written
# in the same transaction as the event it raises (a second replica's insert finds it and stops).
contract_notice = Table(
    "contract_notice",
    metadata,
    Column("contract_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("notified_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("contract_id", "kind", "deadline"),
)

# Performance, from consumed events: each incident counted toward a contract, and its times.
contract_incident = Table(
    "contract_incident",
    metadata,
    Column("contract_id", Uuid, nullable=False),
    Column("incident_id", Uuid, nullable=False),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("incident_number", String(20), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_period", String(7), nullable=False, index=True),
    Column("first_response_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("resolved_period", String(7), index=True),
    Column("response_s", Float),
    Column("resolution_s", Float),
    Column("response_breached", Boolean, nullable=False),
    Column("resolution_breached", Boolean, nullable=False),
    PrimaryKeyConstraint("contract_id", "incident_id"),
)

contract_change = Table(
    "contract_change",
    metadata,
    Column("contract_id", Uuid, nullable=False),
    Column("change_id", Uuid, nullable=False),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("change_number", String(20), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("period", String(7), nullable=False, index=True),
    PrimaryKeyConstraint("contract_id", "change_id"),
)

contract_sla_breach = Table(
    "contract_sla_breach",
    metadata,
    Column("contract_id", Uuid, nullable=False),
    Column("ticket_id", Uuid, nullable=False),
    Column("target", String(20), nullable=False),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("period", String(7), nullable=False, index=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("contract_id", "ticket_id", "target"),
)

# supplier.target_breached.v1 once per contract, incident and metric (the key), same transaction.
target_breach = Table(
    "target_breach",
    metadata,
    Column("contract_id", Uuid, nullable=False),
    Column("incident_id", Uuid, nullable=False),
    Column("metric", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("contract_id", "incident_id", "metric"),
)

performance_review = Table(
    "performance_review",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("contract_id", Uuid),
    Column("held_on", Date, nullable=False),
    Column("period", String(7), nullable=False),
    Column("participants", JSON, nullable=False),
    Column("figures", JSON, nullable=False),
    Column("findings", Text, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

dispute = Table(
    "dispute",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("contract_id", Uuid),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("amount", Numeric(16, 2)),
    Column("currency", String(3)),
    Column("status", String(20), nullable=False, index=True),
    Column("resolution", Text),
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("version", Integer, nullable=False),
)

# The external-party access register (6.6.2): what a supplier's people or systems may reach, on
# which contract, who holds it, until when, and when it is next reviewed.
access_grant = Table(
    "access_grant",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("supplier_id", Uuid, nullable=False, index=True),
    Column("contract_id", Uuid, nullable=False, index=True),
    Column("legal_basis", Text, nullable=False),
    Column("service_id", Uuid),
    Column("ci_id", Uuid),
    Column("system", String(200), nullable=False),
    Column("access_type", String(20), nullable=False),
    Column("classification", String(20), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("holders", JSON, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("expires_on", UtcDateTime, nullable=False),
    Column("review_interval_days", Integer, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("requested_by", String(200), nullable=False),
    Column("granted_on", UtcDateTime),
    Column("granted_by", String(200)),
    Column("next_review_on", UtcDateTime),
    Column("last_reviewed_on", UtcDateTime),
    Column("last_reviewed_by", String(200)),
    Column("last_review_outcome", String(10)),
    Column("last_review_notes", Text, nullable=False),
    Column("ended_reason", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# The access watcher's exactly-once key: one row per grant, notice kind and date (next review or
# expiry), written in the same transaction as the event it raises.
access_notice = Table(
    "access_notice",
    metadata,
    Column("grant_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("notified_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("grant_id", "kind", "deadline"),
)
