"""Create the supplier table and the platform tables (outbox, inbox, number counters).

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

SEQUENCES = ("supplier",)


def upgrade() -> None:
    create_platform_tables(SEQUENCES)
    op.create_table(
        "supplier",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(600), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("risk_rating", sa.String(10), nullable=False),
        sa.Column("supplier_manager", sa.String(200), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint("number", name=op.f("uq_supplier_number")),
        sa.UniqueConstraint("name_key", name=op.f("uq_supplier_name_key")),
    )
    op.create_index(op.f("ix_supplier_category"), "supplier", ["category"])
    op.create_index(op.f("ix_supplier_status"), "supplier", ["status"])


def downgrade() -> None:
    op.drop_table("supplier")
    drop_platform_tables(SEQUENCES)
