"""Records control (ISO/IEC 20000-1 4.3.3): when a change or a release reached a final status
(`closed_at`, which its retention period counts from), and the retention policies, legal holds and
disposal log.

A change or release closed or cancelled before this migration gets its `updated_at` as `closed_at`:
the last time it was written, never earlier than its closing, so its period is never shortened.

Revision ID: 0014_retention
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.retention_store import create_retention_tables, drop_retention_tables

revision: str = "0014_retention"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RECORDS = ("change", "release")
FINAL = ("closed", "cancelled")
"""The final statuses of both (their lifecycles leave no way out of these)."""


def upgrade() -> None:
    for name in RECORDS:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
            batch.create_index(f"ix_{name}_closed_at", ["closed_at"])
        table = sa.table(name, sa.column("status", sa.String), sa.column("closed_at"), sa.column("updated_at"))
        op.execute(table.update().where(table.c.status.in_(FINAL)).values(closed_at=table.c.updated_at))
    create_retention_tables()


def downgrade() -> None:
    drop_retention_tables()
    for name in reversed(RECORDS):
        with op.batch_alter_table(name) as batch:
            batch.drop_index(f"ix_{name}_closed_at")
            batch.drop_column("closed_at")
