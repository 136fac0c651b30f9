"""The projections as fact tables (incidents, requests, problems, changes, deployments, CIs,
CMDB findings, suppliers, contracts, supplier breaches, disputes) in place of the incident
projection, and the stored scheduled report runs.

The fact tables are projections of the event log: `POST /api/v1/projections/rebuild` fills them
from it, so this migration leaves them empty and drops the old projection.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "incident_facts": ["opened_at", "service_id"],
    "request_facts": ["submitted_at"],
    "change_facts": ["created_at"],
    "deployment_facts": ["finished_at"],
    "report_run": ["generated_at"],
}


def upgrade() -> None:
    op.drop_index("ix_incident_projection_priority", table_name="incident_projection")
    op.drop_index("ix_incident_projection_status", table_name="incident_projection")
    op.drop_table("incident_projection")
    op.create_table(
        "incident_facts",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("priority_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("impact", sa.Integer(), nullable=True),
        sa.Column("impact_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("urgency", sa.Integer(), nullable=True),
        sa.Column("urgency_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("service_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("ci_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("category_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignment_group", sa.String(200), nullable=True),
        sa.Column("assignment_group_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("supplier_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(200), nullable=True),
        sa.Column("major", sa.Boolean(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_met", sa.Boolean(), nullable=True),
        sa.Column("resolution_met", sa.Boolean(), nullable=True),
        sa.Column("response_breached", sa.Boolean(), nullable=True),
        sa.Column("resolution_breached", sa.Boolean(), nullable=True),
        sa.Column("reassignments", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reopens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("problem_id", sa.Uuid(), nullable=True),
        sa.Column("problem_link_reason", sa.String(200), nullable=True),
        sa.Column("caused_by_change_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_facts")),
    )
    op.create_table(
        "request_facts",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("catalogue_item", sa.String(200), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("priority_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("service_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignment_group", sa.String(200), nullable=True),
        sa.Column("assignment_group_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_met", sa.Boolean(), nullable=True),
        sa.Column("fulfilment_met", sa.Boolean(), nullable=True),
        sa.Column("response_breached", sa.Boolean(), nullable=True),
        sa.Column("fulfilment_breached", sa.Boolean(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_facts")),
    )
    op.create_table(
        "problem_facts",
        sa.Column("problem_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("service_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("ci_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("category_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.String(200), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("known_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("change_id", sa.Uuid(), nullable=True),
        sa.Column("change_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("incident_count", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("problem_id", name=op.f("pk_problem_facts")),
    )
    op.create_table(
        "change_facts",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("type", sa.String(200), nullable=True),
        sa.Column("type_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("implemented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backed_out", sa.Boolean(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_change_facts")),
    )
    op.create_table(
        "change_service_facts",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("change_id", "service_id", name=op.f("pk_change_service_facts")),
    )
    op.create_table(
        "change_incident_facts",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("change_id", "incident_id", name=op.f("pk_change_incident_facts")),
    )
    op.create_table(
        "deployment_facts",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("service_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service", sa.String(200), nullable=True),
        sa.Column("environment", sa.String(200), nullable=True),
        sa.Column("result", sa.String(200), nullable=True),
        sa.Column("result_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("change_id", sa.Uuid(), nullable=True),
        sa.Column("release_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", name=op.f("pk_deployment_facts")),
    )
    op.create_table(
        "ci_facts",
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("name_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("type", sa.String(200), nullable=True),
        sa.Column("type_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("criticality", sa.Integer(), nullable=True),
        sa.Column("criticality_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("service_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("supplier_id_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("ci_id", name=op.f("pk_ci_facts")),
    )
    op.create_table(
        "cmdb_finding_facts",
        sa.Column("finding_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(200), nullable=True),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("change_id", sa.Uuid(), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_cmdb_finding_facts")),
    )
    op.create_table(
        "supplier_facts",
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("name_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("supplier_id", name=op.f("pk_supplier_facts")),
    )
    op.create_table(
        "contract_facts",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("starts_on", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_on", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_contract_facts")),
    )
    op.create_table(
        "supplier_breach_facts",
        sa.Column("breach_id", sa.String(36), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("metric", sa.String(200), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("period", sa.String(200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("breach_id", name=op.f("pk_supplier_breach_facts")),
    )
    op.create_table(
        "dispute_facts",
        sa.Column("dispute_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("dispute_id", name=op.f("pk_dispute_facts")),
    )
    op.create_table(
        "report_run",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("report", sa.String(50), nullable=False),
        sa.Column("frequency", sa.String(10), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_report_run")),
        sa.UniqueConstraint("report", "frequency", "period_start", name=op.f("uq_report_run_report")),
    )
    for table, columns in INDEXES.items():
        for column in columns:
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def downgrade() -> None:
    for table in (
        "report_run",
        "dispute_facts",
        "supplier_breach_facts",
        "contract_facts",
        "supplier_facts",
        "cmdb_finding_facts",
        "ci_facts",
        "deployment_facts",
        "change_incident_facts",
        "change_service_facts",
        "change_facts",
        "problem_facts",
        "request_facts",
        "incident_facts",
    ):
        op.drop_table(table)
    op.create_table(
        "incident_projection",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_projection")),
    )
    op.create_index(op.f("ix_incident_projection_status"), "incident_projection", ["status"])
    op.create_index(op.f("ix_incident_projection_priority"), "incident_projection", ["priority"])
