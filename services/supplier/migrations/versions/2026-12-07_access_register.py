"""The external-party access register (ISO/IEC 20000-1 6.6.2): access grants and the access
watcher's notice keys.

Revision ID: 0007_accessreg
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0007_accessreg"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("system", sa.String(200), nullable=False),
        sa.Column("access_type", sa.String(20), nullable=False),
        sa.Column("classification", sa.String(20), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("holders", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires_on", UtcDateTime(), nullable=False),
        sa.Column("review_interval_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("granted_on", UtcDateTime(), nullable=True),
        sa.Column("granted_by", sa.String(200), nullable=True),
        sa.Column("next_review_on", UtcDateTime(), nullable=True),
        sa.Column("last_reviewed_on", UtcDateTime(), nullable=True),
        sa.Column("last_reviewed_by", sa.String(200), nullable=True),
        sa.Column("last_review_outcome", sa.String(10), nullable=True),
        sa.Column("last_review_notes", sa.Text(), nullable=False),
        sa.Column("ended_reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant")),
        sa.UniqueConstraint("number", name=op.f("uq_access_grant_number")),
    )
    op.create_index(op.f("ix_access_grant_supplier_id"), "access_grant", ["supplier_id"])
    op.create_index(op.f("ix_access_grant_contract_id"), "access_grant", ["contract_id"])
    op.create_index(op.f("ix_access_grant_status"), "access_grant", ["status"])
    op.create_table(
        "access_notice",
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("deadline", UtcDateTime(), nullable=False),
        sa.Column("notified_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("grant_id", "kind", "deadline", name=op.f("pk_access_notice")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE access_grant_number_seq START 1")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS access_grant_number_seq")
    op.drop_table("access_notice")
    op.drop_index(op.f("ix_access_grant_status"), table_name="access_grant")
    op.drop_index(op.f("ix_access_grant_contract_id"), table_name="access_grant")
    op.drop_index(op.f("ix_access_grant_supplier_id"), table_name="access_grant")
    op.drop_table("access_grant")
