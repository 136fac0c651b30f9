"""Records control (ISO/IEC 20000-1 4.3.3): retention policies, legal holds and the disposal log.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from shared.retention_store import create_retention_tables, drop_retention_tables

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_retention_tables()


def downgrade() -> None:
    drop_retention_tables()
