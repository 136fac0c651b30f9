"""An index on a change's requester: a requester's list of changes shows only their own.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_change_requester"), "change", ["requester"])


def downgrade() -> None:
    op.drop_index(op.f("ix_change_requester"), table_name="change")
