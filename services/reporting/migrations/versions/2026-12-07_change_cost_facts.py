"""Change cost facts (ISO/IEC 20000-1 6.4): `change_cost_facts` (a row per change: its latest
change.cost_stated.v1) and `change_cost_service_facts` (the services each statement named), read
by the change-costs report. Amounts are integer cents. Projections of the event log:
`POST /api/v1/projections/rebuild` fills them from the events already received.

Revision ID: 0017_changecosts
Revises: 0016_costreport
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_changecosts"
down_revision: str | None = "0016_costreport"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
TEXT = sa.String(200)


def _bookkeeping() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("updated_at", WHEN, nullable=False), sa.Column("updated_event", sa.String(36), nullable=False)]


def upgrade() -> None:
    latest = {
        "currency": sa.String(3),
        "estimated_cents": sa.BigInteger(),
        "estimate_stated": sa.Boolean(),
        "actual_cents": sa.BigInteger(),
        "actual_stated": sa.Boolean(),
        "cost_category": TEXT,
        "budget_id": sa.Uuid(),
        "stated_at": WHEN,
        "stated_by": TEXT,
    }
    stamped = [c for name, kind in latest.items() for c in (sa.Column(name, kind), sa.Column(f"{name}_stamp", WHEN))]
    op.create_table(
        "change_cost_facts",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("number", TEXT, nullable=True),
        *stamped,
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_change_cost_facts")),
    )
    op.create_table(
        "change_cost_service_facts",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("stated_at", WHEN, nullable=True),
        sa.Column("stated_at_stamp", WHEN, nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("change_id", "service_id", name=op.f("pk_change_cost_service_facts")),
    )


def downgrade() -> None:
    op.drop_table("change_cost_service_facts")
    op.drop_table("change_cost_facts")
