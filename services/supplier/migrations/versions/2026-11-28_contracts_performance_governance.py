"""Supplier hierarchy, contacts and supplied CIs; field history; the process register; contracts
with coverage, amendments and expiry notices; performance figures from events; reviews; disputes;
the local CI read model.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.ci_read_model import create_ci_read_model_tables, drop_ci_read_model_tables
from shared.db import BigIntKey, UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCES = ("contract", "review", "dispute")


def upgrade() -> None:
    with op.batch_alter_table("supplier") as batch:
        batch.add_column(sa.Column("lead_supplier_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("contacts", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("service_ids", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("ci_ids", sa.JSON(), server_default="[]", nullable=False))
        batch.create_index(op.f("ix_supplier_lead_supplier_id"), ["lead_supplier_id"])
    if op.get_bind().dialect.name == "postgresql":
        for name in SEQUENCES:
            op.execute(f"CREATE SEQUENCE {name}_number_seq START 1")

    op.create_table(
        "record_history",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("record_type", sa.String(20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("field", sa.String(50), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("amendment", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_history")),
    )
    op.create_index(op.f("ix_record_history_record_id"), "record_history", ["record_id"])

    op.create_table(
        "operated_process",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("process", sa.String(40), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("measurement", sa.Text(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("process_owner", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operated_process")),
    )
    op.create_index(op.f("ix_operated_process_supplier_id"), "operated_process", ["supplier_id"])

    op.create_table(
        "contract",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("ci_ids", sa.JSON(), nullable=False),
        sa.Column("starts_on", UtcDateTime(), nullable=False),
        sa.Column("ends_on", UtcDateTime(), nullable=False),
        sa.Column("notice_period_days", sa.Integer(), nullable=False),
        sa.Column("renewal_terms", sa.Text(), nullable=False),
        sa.Column("value", sa.Numeric(16, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("charging_basis", sa.String(30), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("availability_pct", sa.Float(), nullable=True),
        sa.Column("workload_limits", sa.Text(), nullable=False),
        sa.Column("exceptions", sa.Text(), nullable=False),
        sa.Column("reporting_obligations", sa.JSON(), nullable=False),
        sa.Column("exit_terms", sa.Text(), nullable=False),
        sa.Column("document_refs", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("amendments", sa.Integer(), nullable=False),
        sa.Column("activated_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract")),
        sa.UniqueConstraint("number", name=op.f("uq_contract_number")),
    )
    op.create_index(op.f("ix_contract_supplier_id"), "contract", ["supplier_id"])
    op.create_index(op.f("ix_contract_status"), "contract", ["status"])

    op.create_table(
        "contract_coverage",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("item_kind", sa.String(10), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "item_kind", "item_id", name=op.f("pk_contract_coverage")),
    )
    op.create_index(op.f("ix_contract_coverage_item_id"), "contract_coverage", ["item_id"])

    op.create_table(
        "contract_amendment",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("review_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "number", name=op.f("pk_contract_amendment")),
    )
    op.create_index(op.f("ix_contract_amendment_review_id"), "contract_amendment", ["review_id"])

    op.create_table(
        "contract_notice",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("deadline", UtcDateTime(), nullable=False),
        sa.Column("notified_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "kind", "deadline", name=op.f("pk_contract_notice")),
    )

    op.create_table(
        "contract_incident",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("incident_number", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("opened_period", sa.String(7), nullable=False),
        sa.Column("first_response_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_period", sa.String(7), nullable=True),
        sa.Column("response_s", sa.Float(), nullable=True),
        sa.Column("resolution_s", sa.Float(), nullable=True),
        sa.Column("response_breached", sa.Boolean(), nullable=False),
        sa.Column("resolution_breached", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "incident_id", name=op.f("pk_contract_incident")),
    )
    op.create_index(op.f("ix_contract_incident_supplier_id"), "contract_incident", ["supplier_id"])
    op.create_index(op.f("ix_contract_incident_opened_period"), "contract_incident", ["opened_period"])
    op.create_index(op.f("ix_contract_incident_resolved_period"), "contract_incident", ["resolved_period"])

    op.create_table(
        "contract_change",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("change_number", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "change_id", name=op.f("pk_contract_change")),
    )
    op.create_index(op.f("ix_contract_change_supplier_id"), "contract_change", ["supplier_id"])
    op.create_index(op.f("ix_contract_change_period"), "contract_change", ["period"])

    op.create_table(
        "contract_sla_breach",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "ticket_id", "target", name=op.f("pk_contract_sla_breach")),
    )
    op.create_index(op.f("ix_contract_sla_breach_supplier_id"), "contract_sla_breach", ["supplier_id"])
    op.create_index(op.f("ix_contract_sla_breach_period"), "contract_sla_breach", ["period"])

    op.create_table(
        "target_breach",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "incident_id", "metric", name=op.f("pk_target_breach")),
    )

    op.create_table(
        "performance_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_review")),
        sa.UniqueConstraint("number", name=op.f("uq_performance_review_number")),
    )
    op.create_index(op.f("ix_performance_review_supplier_id"), "performance_review", ["supplier_id"])

    op.create_table(
        "dispute",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("amount", sa.Numeric(16, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute")),
        sa.UniqueConstraint("number", name=op.f("uq_dispute_number")),
    )
    op.create_index(op.f("ix_dispute_supplier_id"), "dispute", ["supplier_id"])
    op.create_index(op.f("ix_dispute_status"), "dispute", ["status"])

    create_ci_read_model_tables()


def downgrade() -> None:
    drop_ci_read_model_tables()
    for table in (
        "dispute",
        "performance_review",
        "target_breach",
        "contract_sla_breach",
        "contract_change",
        "contract_incident",
        "contract_notice",
        "contract_amendment",
        "contract_coverage",
        "contract",
        "operated_process",
        "record_history",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for name in SEQUENCES:
            op.execute(f"DROP SEQUENCE IF EXISTS {name}_number_seq")
    with op.batch_alter_table("supplier") as batch:
        batch.drop_index(op.f("ix_supplier_lead_supplier_id"))
        batch.drop_column("ci_ids")
        batch.drop_column("service_ids")
        batch.drop_column("contacts")
        batch.drop_column("lead_supplier_id")
