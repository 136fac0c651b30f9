"""Every table of the CMDB, declared once (SQLAlchemy Core); the migrations match them."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, Float, Index, Integer, String, Table, Text, UniqueConstraint, Uuid
from sqlalchemy.types import BigInteger

from services.config.domain.items import CIStatus
from shared.db import UtcDateTime
from shared.idempotency import idempotency_table
from shared.store import service_tables

metadata, outbox, inbox, number_sequence = service_tables()
idempotency_key = idempotency_table(metadata)

ci_type = Table(
    "ci_type",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("attribute_schema", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)

config_item = Table(
    "config_item",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("type", String(50), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("criticality", Integer, nullable=False),
    Column("owner", String(200)),
    Column("attributes", JSON, nullable=False),
    Column("serial", String(100)),
    Column("hostname", String(253)),
    Column("fqdn", String(253)),
    Column("cloud_id", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("service_id", Uuid, index=True),
    Column("supplier_id", Uuid, index=True),
    Column("location_id", Uuid),
    Column("product_version", String(100)),
    Column("controlled", Boolean, nullable=False, server_default="0"),
    # Operational, not configuration: when discovery last saw it (no new version for that).
    Column("last_seen_at", UtcDateTime),
    Column("last_seen_by", String(100)),
)

# domain.hostname_claim: a hostname belongs to one CI at a time, retired CIs release theirs.
CLAIMS_HOSTNAME = config_item.c.status != CIStatus.RETIRED.value
NOT_RETIRED = config_item.c.status != CIStatus.RETIRED.value
Index(
    "uq_config_item_hostname",
    config_item.c.hostname,
    unique=True,
    postgresql_where=CLAIMS_HOSTNAME,
    sqlite_where=CLAIMS_HOSTNAME,
)

ci_version = Table(
    "ci_version",
    metadata,
    Column("ci_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("cause_kind", String(20), nullable=False),
    Column("cause_reference", String(100)),
    Column("changes", JSON, nullable=False),
    Column("snapshot", JSON, nullable=False),
)

ci_relationship = Table(
    "ci_relationship",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source_id", Uuid, nullable=False, index=True),
    Column("type", String(30), nullable=False),
    Column("target_id", Uuid, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("source_id", "type", "target_id", name="uq_ci_relationship_edge"),
    # The unique index serves lookups by source; this one by target, with the type and the other
    # end in it, so that impact analysis reads relationships from indexes alone.
    Index("ix_ci_relationship_target_id_type_source_id", "target_id", "type", "source_id"),
)

relationship_history = Table(
    "relationship_history",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("relationship_id", Uuid, nullable=False, index=True),
    Column("action", String(10), nullable=False),
    Column("source_id", Uuid, nullable=False, index=True),
    Column("type", String(30), nullable=False),
    Column("target_id", Uuid, nullable=False, index=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("cause_kind", String(20), nullable=False),
    Column("cause_reference", String(100)),
)

discovery_run = Table(
    "discovery_run",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source", String(100), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("report", JSON, nullable=False),
)

unauthorised_change = Table(
    "unauthorised_change",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ci_id", Uuid, nullable=False, index=True),
    Column("run_id", Uuid, nullable=False),
    Column("source", String(100), nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("differences", JSON, nullable=False),
    # The same difference seen again (a repeated run) is one finding, not a new one.
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("status", String(20), nullable=False, server_default="open"),
)

change_window = Table(
    "change_window",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("planned_start", UtcDateTime),
    Column("planned_end", UtcDateTime),
    Column("affected_ci_ids", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


baseline = Table(
    "baseline",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("scope", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("item_count", Integer, nullable=False),
)

baseline_item = Table(
    "baseline_item",
    metadata,
    Column("baseline_id", Uuid, primary_key=True),
    Column("ci_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("snapshot", JSON, nullable=False),
)


# Capacity (ISO/IEC 20000-1 6.5): metrics read from Prometheus, thresholds per CI, the samples
# kept (one per grid instant: a catch-up stores nothing twice), and capacity plans.
capacity_metric = Table(
    "capacity_metric",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("unit", String(30), nullable=False),
    Column("promql", Text, nullable=False),
    Column("ci_label", String(100), nullable=False),
    Column("warning", Float, nullable=False),
    Column("critical", Float, nullable=False),
    Column("sampled_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)

capacity_threshold = Table(
    "capacity_threshold",
    metadata,
    Column("metric_id", Uuid, primary_key=True),
    Column("ci_id", Uuid, primary_key=True, index=True),
    Column("warning", Float, nullable=False),
    Column("critical", Float, nullable=False),
    Column("level", String(10), nullable=False),
    Column("level_since", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

capacity_sample = Table(
    "capacity_sample",
    metadata,
    Column("metric_id", Uuid, primary_key=True),
    Column("ci_id", Uuid, primary_key=True),
    Column("at", UtcDateTime, primary_key=True),
    Column("value", Float, nullable=False),
    Index("ix_capacity_sample_at", "at"),
)

capacity_source = Table(
    "capacity_source",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("detail", String(500), nullable=False, server_default=""),
    Column("checked_at", UtcDateTime, nullable=False),
    Column("last_success_at", UtcDateTime),
)
"""What the last sampling pass found of its source: `ok` or `unavailable` (with why), for /readyz."""

capacity_plan = Table(
    "capacity_plan",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("requirements", Text, nullable=False),
    Column("baselines", JSON, nullable=False),
    Column("forecast_horizon_days", Integer, nullable=False),
    Column("upgrade_items", JSON, nullable=False),
    Column("considerations", Text, nullable=False, server_default=""),
    Column("review_interval_days", Integer, nullable=False),
    Column("reviewed_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("service_id", "version", name="uq_capacity_plan_service_version"),
)


# Service continuity and availability (ISO/IEC 20000-1 6.3): plans as versioned documents under
# change control, their tests, their invocations, and each export of the offline continuity pack.
continuity_plan = Table(
    "continuity_plan",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("service_ids", JSON, nullable=False),
    Column("document", JSON, nullable=False),
    Column("test_interval_days", Integer, nullable=False),
    Column("test_due_by", UtcDateTime, nullable=False),
    Column("retest_change_number", String(20)),
    Column("last_tested_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)
"""The current version of each plan; `document` holds what the plan says (criteria, authority,
recovery targets, targets while invoked, procedures, return to normal, contacts)."""

continuity_plan_version = Table(
    "continuity_plan_version",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("snapshot", JSON, nullable=False),
    Column("change_number", String(20)),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
)

continuity_test = Table(
    "continuity_test",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("plan_id", Uuid, nullable=False, index=True),
    Column("plan_version", Integer, nullable=False),
    Column("type", String(20), nullable=False),
    Column("tested_at", UtcDateTime, nullable=False),
    Column("scope", Text, nullable=False),
    Column("results", JSON, nullable=False),
    Column("deficiencies", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("review", JSON),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
)

continuity_invocation = Table(
    "continuity_invocation",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("plan_id", Uuid, nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("major_incident_number", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("invoked_at", UtcDateTime, nullable=False),
    Column("invoked_by", String(200), nullable=False),
    Column("timeline", JSON, nullable=False),
    Column("returned_to_normal_at", UtcDateTime),
    Column("review", JSON),
    Column("version", Integer, nullable=False),
)

continuity_pack_export = Table(
    "continuity_pack_export",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("exported_at", UtcDateTime, nullable=False),
    Column("exported_by", String(200), nullable=False),
    Column("plans", Integer, nullable=False),
    Column("services", Integer, nullable=False),
    Column("cis", Integer, nullable=False),
)
# Customers and their agreements (ISO/IEC 20000-1 6.1, 7.1) -------------------------------------------

customer = Table(
    "customer",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("relationship_manager", String(200), nullable=False),
    Column("contacts", JSON, nullable=False),
    Column("service_ids", JSON, nullable=False),
    Column("user_groups", JSON, nullable=False),
    Column("interested_parties", JSON, nullable=False),
    Column("review_interval_days", Integer, nullable=False),
    Column("next_review", Date, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

agreement = Table(
    "agreement",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False),
    Column("document_version", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("title", String(200), nullable=False),
    Column("customer_id", Uuid, index=True),
    Column("group", String(100)),
    Column("service_ids", JSON, nullable=False),
    Column("targets", JSON, nullable=False),
    Column("availability_pct", Float, nullable=False),
    Column("calendar", String(100), nullable=False),
    Column("exclusions", JSON, nullable=False),
    Column("review_date", Date, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("change_number", String(20)),
    Column("agreed_at", UtcDateTime),
    Column("agreed_by", String(200)),
    Column("ended_at", UtcDateTime),
    Column("superseded_by", Uuid),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("number", "document_version", name="uq_agreement_number_document_version"),
)
"""Each version of an agreement is a row; `version` is the row's ETag, `document_version` the agreement's."""
# Budgeting and accounting (ISO/IEC 20000-1 6.4): amounts are integer cents (exact on both databases).
budget = Table(
    "budget",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service_id", Uuid, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("lines", JSON, nullable=False),  # category -> cents
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("service_id", "period_start", "period_end", name="uq_budget_service_period"),
)
allocation_rule = Table(
    "allocation_rule",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("basis", String(20), nullable=False),
    Column("shares", JSON, nullable=False),  # service_ids, percents (text), metric
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)
cost_actual = Table(
    "cost_actual",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reference", String(64), nullable=False, index=True),
    Column("service_id", Uuid, nullable=False),
    Column("category", String(20), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("incurred_on", Date, nullable=False),
    Column("detail", JSON, nullable=False),  # description, allocation (rule, version), import_id, imported_by
    Index("ix_cost_actual_service_incurred", "service_id", "incurred_on"),
)
