"""Budgeting and accounting (6.4): budgets, allocation rules (every version), finance's actuals.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budget",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget")),
        sa.UniqueConstraint("service_id", "period_start", "period_end", name="uq_budget_service_period"),
    )
    op.create_table(
        "allocation_rule",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_allocation_rule")),
    )
    op.create_table(
        "cost_actual",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_actual")),
    )
    op.create_index(op.f("ix_cost_actual_reference"), "cost_actual", ["reference"])
    op.create_index("ix_cost_actual_service_incurred", "cost_actual", ["service_id", "incurred_on"])


def downgrade() -> None:
    op.drop_index("ix_cost_actual_service_incurred", table_name="cost_actual")
    op.drop_index(op.f("ix_cost_actual_reference"), table_name="cost_actual")
    op.drop_table("cost_actual")
    op.drop_table("allocation_rule")
    op.drop_table("budget")
