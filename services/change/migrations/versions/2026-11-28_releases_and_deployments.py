"""Standard change templates, the services and plans of a change, releases, deployments, pipeline
notifications and the incidents linked to changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change") as batch:
        batch.add_column(sa.Column("template_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("implementation_plan", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("backout_plan", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("test_plan", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "change_service",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change.id"], name=op.f("fk_change_service_change_id_change"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("change_id", "service_id", name=op.f("pk_change_service")),
    )
    op.create_index(op.f("ix_change_service_service_id"), "change_service", ["service_id"])
    op.create_table(
        "change_template",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("category", sa.String(50), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("pipeline_names", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("implementation_plan", sa.Text(), nullable=False),
        sa.Column("backout_plan", sa.Text(), nullable=False),
        sa.Column("test_plan", sa.Text(), server_default="", nullable=False),
        sa.Column("default_duration_s", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("pipeline_default", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_template")),
    )
    op.create_index(op.f("ix_change_template_service_id"), "change_template", ["service_id"])
    op.create_table(
        "release",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("change_ids", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("known_error_ids", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("planned_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acceptance_criteria", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("acceptance_result", sa.String(10), nullable=True),
        sa.Column("acceptance_notes", sa.Text(), server_default="", nullable=False),
        sa.Column("acceptance_by", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release")),
        sa.UniqueConstraint("number", name=op.f("uq_release_number")),
    )
    op.create_index(op.f("ix_release_service_id"), "release", ["service_id"])
    op.create_index(op.f("ix_release_status"), "release", ["status"])
    op.create_table(
        "deployment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("version", sa.String(100), nullable=True),
        sa.Column("release_id", sa.Uuid(), nullable=True),
        sa.Column("change_id", sa.Uuid(), nullable=True),
        sa.Column("change_number", sa.String(20), nullable=True),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commit_sha", sa.String(64), nullable=True),
        sa.Column("ref", sa.String(255), nullable=True),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("verification", sa.Text(), server_default="", nullable=False),
        sa.Column("rollback_notes", sa.Text(), server_default="", nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
        sa.UniqueConstraint("source", "external_id", name="uq_deployment_source_external_id"),
    )
    for column in ("service", "service_id", "release_id", "change_id", "recorded_at"):
        op.create_index(op.f(f"ix_deployment_{column}"), "deployment", [column])
    op.create_table(
        "deployment_notification",
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("notification_id", sa.String(200), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("delivery_id", sa.String(200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "notification_id", name=op.f("pk_deployment_notification")),
    )
    op.create_index(op.f("ix_deployment_notification_deployment_id"), "deployment_notification", ["deployment_id"])
    op.create_table(
        "change_incident_link",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("incident_number", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("change_id", "incident_id", name=op.f("pk_change_incident_link")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE release_number_seq START 1")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS release_number_seq")
    for table in ("change_incident_link", "deployment_notification", "deployment", "release", "change_template"):
        op.drop_table(table)
    op.drop_table("change_service")
    with op.batch_alter_table("change") as batch:
        for column in ("test_plan", "backout_plan", "implementation_plan", "template_id"):
            batch.drop_column(column)
