"""Records control (ISO/IEC 20000-1 4.3.3): the retention policies, legal holds and disposal log of
e-mail messages and webhook deliveries.

Revision ID: 0009_notifyretention
Revises: 0008_desks
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from shared.retention_store import create_retention_tables, drop_retention_tables

revision: str = "0009_notifyretention"
down_revision: str | None = "0008_desks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_retention_tables()


def downgrade() -> None:
    drop_retention_tables()
