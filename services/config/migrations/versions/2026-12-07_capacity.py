"""Capacity: metrics read from Prometheus, thresholds per CI, samples, capacity plans.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capacity_metric",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("unit", sa.String(30), nullable=False),
        sa.Column("promql", sa.Text(), nullable=False),
        sa.Column("ci_label", sa.String(100), nullable=False),
        sa.Column("warning", sa.Float(), nullable=False),
        sa.Column("critical", sa.Float(), nullable=False),
        sa.Column("sampled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_metric")),
        sa.UniqueConstraint("name", name=op.f("uq_capacity_metric_name")),
    )
    op.create_table(
        "capacity_threshold",
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.Column("warning", sa.Float(), nullable=False),
        sa.Column("critical", sa.Float(), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("level_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("metric_id", "ci_id", name=op.f("pk_capacity_threshold")),
    )
    op.create_index(op.f("ix_capacity_threshold_ci_id"), "capacity_threshold", ["ci_id"])
    op.create_table(
        "capacity_sample",
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("metric_id", "ci_id", "at", name=op.f("pk_capacity_sample")),
    )
    op.create_index("ix_capacity_sample_at", "capacity_sample", ["at"])
    op.create_table(
        "capacity_source",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(500), server_default="", nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_capacity_source")),
    )
    op.create_table(
        "capacity_plan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("baselines", sa.JSON(), nullable=False),
        sa.Column("forecast_horizon_days", sa.Integer(), nullable=False),
        sa.Column("upgrade_items", sa.JSON(), nullable=False),
        sa.Column("considerations", sa.Text(), server_default="", nullable=False),
        sa.Column("review_interval_days", sa.Integer(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_plan")),
        sa.UniqueConstraint("service_id", "version", name="uq_capacity_plan_service_version"),
    )


def downgrade() -> None:
    op.drop_table("capacity_plan")
    op.drop_table("capacity_source")
    op.drop_index("ix_capacity_sample_at", table_name="capacity_sample")
    op.drop_table("capacity_sample")
    op.drop_index(op.f("ix_capacity_threshold_ci_id"), table_name="capacity_threshold")
    op.drop_table("capacity_threshold")
    op.drop_table("capacity_metric")
