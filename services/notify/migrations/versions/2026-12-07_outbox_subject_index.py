"""An index on the outbox's subject: an evidence export reads a record's events by subject, and the
relay looks for a subject's earlier rows pending outside its batch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_outbox_subject"), "outbox", ["subject"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_subject"), table_name="outbox")
