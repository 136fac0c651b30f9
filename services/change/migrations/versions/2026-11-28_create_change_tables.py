"""Create the change tables and the platform tables (outbox, inbox, number counters).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_platform_tables, drop_platform_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCES = ("change",)


def upgrade() -> None:
    create_platform_tables(SEQUENCES)
    op.create_table(
        "change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("justification", sa.Text(), server_default="", nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("category", sa.String(50), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change")),
        sa.UniqueConstraint("number", name=op.f("uq_change_number")),
    )
    op.create_index(op.f("ix_change_status"), "change", ["status"])
    op.create_index(op.f("ix_change_type"), "change", ["type"])
    op.create_table(
        "change_affected_ci",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change.id"],
            name=op.f("fk_change_affected_ci_change_id_change"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("change_id", "ci_id", name=op.f("pk_change_affected_ci")),
    )
    op.create_index(op.f("ix_change_affected_ci_ci_id"), "change_affected_ci", ["ci_id"])


def downgrade() -> None:
    op.drop_table("change_affected_ci")
    op.drop_table("change")
    drop_platform_tables(SEQUENCES)
