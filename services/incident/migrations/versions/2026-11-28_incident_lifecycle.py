"""The incident lifecycle: assignment, hold reason, resolution, timestamps, field history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("assignment_group", sa.String(100), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(200), nullable=True))
        batch.add_column(sa.Column("hold_reason", sa.String(30), nullable=True))
        batch.add_column(sa.Column("resolution_code", sa.String(50), nullable=True))
        batch.add_column(sa.Column("resolution_notes", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("first_response_at", _TS, nullable=True))
        batch.add_column(sa.Column("resolved_at", _TS, nullable=True))
        batch.add_column(sa.Column("closed_at", _TS, nullable=True))
        batch.create_index(batch.f("ix_incident_assignment_group"), ["assignment_group"])
        batch.create_index(batch.f("ix_incident_assignee"), ["assignee"])
    op.create_table(
        "incident_history",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("field", sa.String(50), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_history")),
    )
    op.create_index(op.f("ix_incident_history_incident_id"), "incident_history", ["incident_id"])


def downgrade() -> None:
    op.drop_table("incident_history")
    with op.batch_alter_table("incident") as batch:
        batch.drop_index(batch.f("ix_incident_assignee"))
        batch.drop_index(batch.f("ix_incident_assignment_group"))
        for column in (
            "closed_at",
            "resolved_at",
            "first_response_at",
            "resolution_notes",
            "resolution_code",
            "hold_reason",
            "assignee",
            "assignment_group",
        ):
            batch.drop_column(column)
