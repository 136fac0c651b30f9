"""Continuity and availability (6.3): plans and their versions, tests, invocations, pack exports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "continuity_plan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("test_interval_days", sa.Integer(), nullable=False),
        sa.Column("test_due_by", WHEN, nullable=False),
        sa.Column("retest_change_number", sa.String(20), nullable=True),
        sa.Column("last_tested_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuity_plan")),
    )
    op.create_table(
        "continuity_plan_version",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("change_number", sa.String(20), nullable=True),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "version", name=op.f("pk_continuity_plan_version")),
    )
    op.create_table(
        "continuity_test",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("tested_at", WHEN, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("deficiencies", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("review", sa.JSON(), nullable=True),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuity_test")),
    )
    op.create_index(op.f("ix_continuity_test_plan_id"), "continuity_test", ["plan_id"])
    op.create_table(
        "continuity_invocation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("major_incident_number", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("invoked_at", WHEN, nullable=False),
        sa.Column("invoked_by", sa.String(200), nullable=False),
        sa.Column("timeline", sa.JSON(), nullable=False),
        sa.Column("returned_to_normal_at", WHEN, nullable=True),
        sa.Column("review", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuity_invocation")),
    )
    op.create_index(op.f("ix_continuity_invocation_plan_id"), "continuity_invocation", ["plan_id"])
    op.create_table(
        "continuity_pack_export",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("exported_at", WHEN, nullable=False),
        sa.Column("exported_by", sa.String(200), nullable=False),
        sa.Column("plans", sa.Integer(), nullable=False),
        sa.Column("services", sa.Integer(), nullable=False),
        sa.Column("cis", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuity_pack_export")),
    )


def downgrade() -> None:
    op.drop_table("continuity_pack_export")
    op.drop_index(op.f("ix_continuity_invocation_plan_id"), table_name="continuity_invocation")
    op.drop_table("continuity_invocation")
    op.drop_index(op.f("ix_continuity_test_plan_id"), table_name="continuity_test")
    op.drop_table("continuity_test")
    op.drop_table("continuity_plan_version")
    op.drop_table("continuity_plan")
