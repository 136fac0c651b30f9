"""Service complaints (ISO/IEC 20000-1 7.1): complaints (numbers CMP...), their field history and
the records they concern.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey
from shared.numbering import sequence_name

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {sequence_name('complaint')} START 1")
    op.create_table(
        "complaint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("complainant", sa.String(200), nullable=False),
        sa.Column("received_via", sa.String(20), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("relationship_manager", sa.String(200), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("investigation_notes", sa.Text(), server_default="", nullable=False),
        sa.Column("root_cause", sa.Text(), server_default="", nullable=False),
        sa.Column("actions_taken", sa.Text(), server_default="", nullable=False),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalated_to", sa.String(200), nullable=True),
        sa.Column("escalated_at", _TS, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("acknowledge_due_at", _TS, nullable=False),
        sa.Column("acknowledged_at", _TS, nullable=True),
        sa.Column("respond_due_at", _TS, nullable=False),
        sa.Column("responded_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("closure_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("closure_confirmed_by_customer", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("number", name=op.f("uq_complaint_number")),
    )
    for column in ("status", "service_id"):
        op.create_index(op.f(f"ix_complaint_{column}"), "complaint", [column])
    op.create_index("ix_complaint_complainant_received_at", "complaint", ["complainant", "received_at"])
    op.create_table(
        "complaint_history",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("field", sa.String(50), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_history")),
    )
    op.create_index(op.f("ix_complaint_history_complaint_id"), "complaint_history", ["complaint_id"])
    op.create_table(
        "complaint_link",
        sa.Column("complaint_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("linked_at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", "kind", "target_id", name=op.f("pk_complaint_link")),
    )
    op.create_index(op.f("ix_complaint_link_target_id"), "complaint_link", ["target_id"])


def downgrade() -> None:
    op.drop_table("complaint_link")
    op.drop_table("complaint_history")
    op.drop_table("complaint")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE IF EXISTS {sequence_name('complaint')}")
