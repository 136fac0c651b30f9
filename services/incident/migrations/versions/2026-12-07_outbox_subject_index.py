"""An index on the outbox's subject: an evidence export reads a record's events by subject, and the
relay looks for a subject's earlier rows pending outside its batch.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from shared.outbox import create_subject_index, drop_subject_index

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_subject_index()


def downgrade() -> None:
    drop_subject_index()
