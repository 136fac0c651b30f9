"""Continuity facts (ISO/IEC 20000-1 6.3): `continuity_plan_facts`, `continuity_plan_service_facts`
and `continuity_invocation_facts` (from config's continuity.* events), read by the continuity and
significant-events reports. Projections of the event log: `POST /api/v1/projections/rebuild` fills
them from the events already received.

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

WHEN = sa.DateTime(timezone=True)
TEXT = sa.String(200)


def _bookkeeping() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("updated_at", WHEN, nullable=False), sa.Column("updated_event", sa.String(36), nullable=False)]


def upgrade() -> None:
    latest = {"title": TEXT, "version": TEXT, "test_due_at": WHEN, "retest_change_number": TEXT}
    stamped = [c for name, kind in latest.items() for c in (sa.Column(name, kind), sa.Column(f"{name}_stamp", WHEN))]
    op.create_table(
        "continuity_plan_facts",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("kind", TEXT, nullable=True),
        *stamped,
        sa.Column("last_tested_at", WHEN, nullable=True),
        sa.Column("tests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("deficiencies", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requirements_missed", sa.Integer(), server_default="0", nullable=False),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_continuity_plan_facts")),
    )
    op.create_table(
        "continuity_plan_service_facts",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("plan_id", "service_id", name=op.f("pk_continuity_plan_service_facts")),
    )
    op.create_table(
        "continuity_invocation_facts",
        sa.Column("invocation_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("major_incident_number", TEXT, nullable=True),
        sa.Column("invoked_at", WHEN, nullable=True),
        sa.Column("returned_to_normal_at", WHEN, nullable=True),
        sa.Column("reviewed_at", WHEN, nullable=True),
        sa.Column("status", TEXT, nullable=True),
        sa.Column("status_stamp", WHEN, nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("invocation_id", name=op.f("pk_continuity_invocation_facts")),
    )


def downgrade() -> None:
    op.drop_table("continuity_invocation_facts")
    op.drop_table("continuity_plan_service_facts")
    op.drop_table("continuity_plan_facts")
