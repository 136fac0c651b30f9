"""The change lifecycle: risk, planned CI changes, the CMDB's outcome, notes, approvers' votes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change") as batch:
        batch.add_column(sa.Column("risk", sa.String(10), nullable=True))
        batch.add_column(sa.Column("planned_ci_changes", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("cmdb_outcome", sa.String(10), server_default="none", nullable=False))
        batch.add_column(sa.Column("cmdb_errors", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("notes", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "change_vote",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("voter", sa.String(200), nullable=False),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change.id"], name=op.f("fk_change_vote_change_id_change"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("change_id", "voter", name=op.f("pk_change_vote")),
    )


def downgrade() -> None:
    op.drop_table("change_vote")
    with op.batch_alter_table("change") as batch:
        for column in ("notes", "cmdb_errors", "cmdb_outcome", "planned_ci_changes", "risk"):
            batch.drop_column(column)
