"""Capacity facts: each CI's capacity metric as config's threshold crossings tell it.

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


def upgrade() -> None:
    stamped = ("level", "value", "warning", "critical", "runway_to_critical_s")
    kinds = {"level": sa.String(200), "value": sa.Float(), "warning": sa.Float(), "critical": sa.Float()}
    columns = [
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(200), nullable=True),
    ]
    for name in stamped:
        columns.append(sa.Column(name, kinds.get(name, sa.Float()), nullable=True))
        columns.append(sa.Column(f"{name}_stamp", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "capacity_facts",
        *columns,
        sa.Column("breaches", sa.Integer(), server_default="0", nullable=False),
        sa.Column("critical_breaches", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("ci_id", "metric", name=op.f("pk_capacity_facts")),
    )


def downgrade() -> None:
    op.drop_table("capacity_facts")
