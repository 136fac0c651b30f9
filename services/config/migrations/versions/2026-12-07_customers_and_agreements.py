"""Customers and their service level / operational level agreements (ISO/IEC 20000-1 6.1, 7.1):
`customer` (numbers CUS...) and `agreement`, one row per version of an agreement (numbers SLA...
and OLA... from one sequence).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.numbering import sequence_name

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {sequence_name('customer')} START 1")
        op.execute(f"CREATE SEQUENCE {sequence_name('agreement')} START 1")
    op.create_table(
        "customer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("relationship_manager", sa.String(200), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("user_groups", sa.JSON(), nullable=False),
        sa.Column("interested_parties", sa.JSON(), nullable=False),
        sa.Column("review_interval_days", sa.Integer(), nullable=False),
        sa.Column("next_review", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("number", name=op.f("uq_customer_number")),
        sa.UniqueConstraint("name", name=op.f("uq_customer_name")),
    )
    op.create_index(op.f("ix_customer_next_review"), "customer", ["next_review"])
    op.create_table(
        "agreement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("document_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("group", sa.String(100), nullable=True),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("availability_pct", sa.Float(), nullable=False),
        sa.Column("calendar", sa.String(100), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("change_number", sa.String(20), nullable=True),
        sa.Column("agreed_at", _TS, nullable=True),
        sa.Column("agreed_by", sa.String(200), nullable=True),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
        sa.UniqueConstraint("number", "document_version", name="uq_agreement_number_document_version"),
    )
    op.create_index(op.f("ix_agreement_customer_id"), "agreement", ["customer_id"])
    op.create_index(op.f("ix_agreement_status"), "agreement", ["status"])


def downgrade() -> None:
    op.drop_table("agreement")
    op.drop_table("customer")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE {sequence_name('agreement')}")
        op.execute(f"DROP SEQUENCE {sequence_name('customer')}")
