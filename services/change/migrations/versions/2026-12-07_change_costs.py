"""The costing of changes (6.4): each change's cost estimate and actual, in integer cents.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_cost",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("estimated_cents", sa.BigInteger(), nullable=True),
        sa.Column("actual_cents", sa.BigInteger(), nullable=True),
        sa.Column("cost_category", sa.String(20), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=True),
        sa.Column("financial_impact", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_change_cost")),
    )


def downgrade() -> None:
    op.drop_table("change_cost")
