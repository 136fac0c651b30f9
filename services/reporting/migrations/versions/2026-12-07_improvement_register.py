"""The improvement register (ISO/IEC 20000-1 4.5.5): `improvement` (one entry per source record),
`improvement_policy` (what raises an entry from an event) and `improvement_breach_tally` (SLA
breaches per service and month, for the threshold).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "improvement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("measure", sa.String(200), nullable=False),
        sa.Column("figure_before", sa.Float(), nullable=True),
        sa.Column("figure_after", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("raised_by", sa.String(200), nullable=False),
        sa.Column("raised_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement")),
        sa.UniqueConstraint("number", name=op.f("uq_improvement_number")),
        sa.UniqueConstraint("source", "source_ref", name="uq_improvement_source"),
    )
    op.create_index(op.f("ix_improvement_owner"), "improvement", ["owner"])
    op.create_index(op.f("ix_improvement_status"), "improvement", ["status"])
    op.create_table(
        "improvement_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sla_breach_threshold", sa.Integer(), nullable=False),
        sa.Column("low_score_max", sa.Integer(), nullable=False),
        sa.Column("default_owner", sa.String(200), nullable=False),
        sa.Column("target_days", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_policy")),
    )
    op.create_table(
        "improvement_breach_tally",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("breaches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service", "month", name=op.f("pk_improvement_breach_tally")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE improvement_number_seq START 1")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS improvement_number_seq")
    for table in ("improvement_breach_tally", "improvement_policy", "improvement"):
        op.drop_table(table)
