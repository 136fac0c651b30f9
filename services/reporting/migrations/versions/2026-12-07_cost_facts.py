"""Cost facts (ISO/IEC 20000-1 6.4): `budget_facts` and `budget_line_facts` (config's
budget.created.v1) and `cost_actual_facts` (cost.actual_recorded.v1, a row per service charged),
read by the costs report. Amounts are integer cents. Projections of the event log:
`POST /api/v1/projections/rebuild` fills them from the events already received.

Revision ID: 0016_costreport
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_costreport"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
TEXT = sa.String(200)


def _bookkeeping() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("updated_at", WHEN, nullable=False), sa.Column("updated_event", sa.String(36), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "budget_facts",
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN, nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("budget_id", name=op.f("pk_budget_facts")),
    )
    op.create_table(
        "budget_line_facts",
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("category", TEXT, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("budget_id", "category", name=op.f("pk_budget_line_facts")),
    )
    op.create_table(
        "cost_actual_facts",
        sa.Column("reference", TEXT, nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("category", TEXT, nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("incurred_on", sa.Date(), nullable=True),
        sa.Column("allocation_rule", TEXT, nullable=True),
        sa.Column("allocation_version", sa.Integer(), nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("reference", "service_id", name=op.f("pk_cost_actual_facts")),
    )
    op.create_index(op.f("ix_cost_actual_facts_service_id"), "cost_actual_facts", ["service_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cost_actual_facts_service_id"), table_name="cost_actual_facts")
    op.drop_table("cost_actual_facts")
    op.drop_table("budget_line_facts")
    op.drop_table("budget_facts")
